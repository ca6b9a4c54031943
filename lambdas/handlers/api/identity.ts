import type { APIGatewayProxyEvent } from 'aws-lambda';
import { assertClusterName } from '../../domain/cluster-name.ts';

/** The IAM principal API Gateway authenticated (the local server fills it the same way). */
export function callerOf(event: APIGatewayProxyEvent): string {
  const identity = event.requestContext.identity;
  return identity.userArn ?? identity.caller ?? identity.accessKey ?? 'unknown';
}

export function clusterNameParameter(event: APIGatewayProxyEvent): string {
  return assertClusterName(decodeURIComponent(event.pathParameters?.name ?? ''));
}
