import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { CreateClusterRequest } from '../../../schemas/types.generated.ts';
import { validateCreateClusterRequest } from '../../../schemas/validate.ts';
import { ValidationError } from '../../domain/errors.ts';
import { createCluster } from '../../domain/use-cases/create-cluster.ts';
import { destroyCluster } from '../../domain/use-cases/destroy-cluster.ts';
import { prepareCluster } from '../../domain/use-cases/prepare-cluster.ts';
import { describeCluster, listClusterEvents, listClusters } from '../../domain/use-cases/queries.ts';
import { dependency } from '../composition.ts';
import { jsonBody, validBody } from '../http/middleware.ts';
import { json } from '../http/responses.ts';
import { callerOf, clusterNameParameter } from './identity.ts';

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
type BodyEvent<T> = Omit<APIGatewayProxyEvent, 'body'> & { body: T };

function withCreateRequest(
  route: (event: BodyEvent<CreateClusterRequest>) => Promise<APIGatewayProxyResult>,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonBody())
    .use(validBody(validateCreateClusterRequest))
    .handler((event) => route(event as unknown as BodyEvent<CreateClusterRequest>));
}

export const planRoute = withCreateRequest(async (event) => {
  const { plan } = await prepareCluster(event.body, {
    catalog: dependency('catalog'),
    preflight: dependency('preflight'),
  });
  return json(200, plan);
});

export const createClusterRoute = withCreateRequest(async (event) => {
  const cluster = await createCluster(event.body, callerOf(event as unknown as APIGatewayProxyEvent), {
    store: dependency('store'),
    catalog: dependency('catalog'),
    preflight: dependency('preflight'),
    workflows: dependency('workflows'),
    secrets: dependency('secrets'),
    clock: dependency('clock'),
    newClusterId: dependency('newClusterId'),
    newSecret: dependency('newSecret'),
  });
  return json(202, cluster);
});

export const listClustersRoute: Route = async (event) => {
  const includeEnded = event.queryStringParameters?.all === 'true';
  return json(200, { clusters: await listClusters(includeEnded, dependency('store')) });
};

export const describeClusterRoute: Route = async (event) =>
  json(200, await describeCluster(clusterNameParameter(event), dependency('store')));

/** Far longer than any event id, far below DynamoDB's 1 KiB sort-key limit. */
const MAX_CURSOR_LENGTH = 200;

export const clusterEventsRoute: Route = async (event) => {
  const after = event.queryStringParameters?.after;
  if (after !== undefined && after.length > MAX_CURSOR_LENGTH) {
    throw new ValidationError(
      `after: must be the id of an event this API returned (at most ${MAX_CURSOR_LENGTH} characters, got ${after.length})`,
      { field: 'after' },
    );
  }
  const events = await listClusterEvents(clusterNameParameter(event), after, dependency('store'));
  return json(200, { events });
};

export const destroyClusterRoute: Route = async (event) => {
  const cluster = await destroyCluster(clusterNameParameter(event), callerOf(event), {
    store: dependency('store'),
    workflows: dependency('workflows'),
  });
  return json(202, cluster);
};
