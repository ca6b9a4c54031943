import type { APIGatewayProxyEvent } from 'aws-lambda';
import { assertClusterName } from '../../domain/cluster-name.ts';

/** The IAM principal API Gateway authenticated (the local server fills it the same way). */
export function callerOf(event: APIGatewayProxyEvent): string {
  const identity = event.requestContext.identity;
  return identity.userArn ?? identity.caller ?? identity.accessKey ?? 'unknown';
}

export function clusterNameParameter(event: APIGatewayProxyEvent): string {
  return assertClusterName(decoded(event.pathParameters?.name ?? ''));
}

/**
 * The router takes the name from the still-encoded REST path; API Gateway's
 * own path parameters come decoded. A `%` that does not decode stays, and
 * makes the name invalid (a 400), never a URIError (a 500).
 */
function decoded(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
