import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  clusterEventsRoute,
  createClusterRoute,
  describeClusterRoute,
  destroyClusterRoute,
  listClustersRoute,
  planRoute,
} from './api/routes.ts';
import { RouteNotFoundError } from './http/errors.ts';
import { errorResponses } from './http/middleware.ts';
import { logger } from './logger.ts';

const routes: Route<APIGatewayProxyEvent, APIGatewayProxyResult>[] = [
  { method: 'POST', path: '/clusters', handler: createClusterRoute },
  { method: 'GET', path: '/clusters', handler: listClustersRoute },
  { method: 'GET', path: '/clusters/{name}', handler: describeClusterRoute },
  { method: 'DELETE', path: '/clusters/{name}', handler: destroyClusterRoute },
  { method: 'GET', path: '/clusters/{name}/events', handler: clusterEventsRoute },
  { method: 'POST', path: '/plan', handler: planRoute },
];

/** The API Lambda: one entry point, a route per use case. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(errorResponses())
  .handler(
    httpRouterHandler({
      routes,
      notFoundResponse: ({ method, path }) => {
        throw new RouteNotFoundError(`no route ${method} ${path}; see the README for the API`);
      },
    }) as never,
  );
