import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RouteNotFoundError } from '../http/errors.ts';
import { errorResponses } from '../http/middleware.ts';
import { logger } from '../logger.ts';
import { type ApiDependencies, apiRoutes } from './routes.ts';

export type { ApiDependencies } from './routes.ts';

/** The API as one handler over these dependencies: a route per use case. */
export function createApiHandler(deps: ApiDependencies) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponses())
    .handler(
      httpRouterHandler({
        routes: apiRoutes(deps),
        notFoundResponse: ({ method, path }) => {
          throw new RouteNotFoundError(`no route ${method} ${path}; see the README for the API`);
        },
      }) as never,
    );
}
