import middy from '@middy/core';
import type { Route as RouterRoute } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import commandSchema from '../../../schemas/api/command.schema.json' with { type: 'json' };
import commonSchema from '../../../schemas/api/common.schema.json' with { type: 'json' };
import eventSchema from '../../../schemas/api/event.schema.json' with { type: 'json' };
import sweepSchema from '../../../schemas/api/sweep.schema.json' with { type: 'json' };
import { escapeControlCharacters } from '../../../schemas/printable.ts';
import type { CreateClusterRequest, StartCommandRequest } from '../../../schemas/types.generated.ts';
import { validateCreateClusterRequest, validateStartCommandRequest } from '../../../schemas/validate.ts';
import { identityOf } from '../../domain/access.ts';
import { ValidationError } from '../../domain/errors.ts';
import {
  type CommandDeps,
  cancelCommand,
  listCommands,
  readCommand,
  startCommand,
} from '../../domain/use-cases/commands.ts';
import { type CreateClusterDeps, createCluster } from '../../domain/use-cases/create-cluster.ts';
import { type DestroyClusterDeps, destroyCluster } from '../../domain/use-cases/destroy-cluster.ts';
import { type OpenNotebookDeps, openNotebook } from '../../domain/use-cases/open-notebook.ts';
import { type PauseClusterDeps, pauseCluster, resumeCluster } from '../../domain/use-cases/pause-cluster.ts';
import { prepareCluster } from '../../domain/use-cases/prepare-cluster.ts';
import {
  describeCluster,
  listClusters,
  type QueryDeps,
  waitForClusterEvents,
} from '../../domain/use-cases/queries.ts';
import { type ReapNowDeps, readSweep, reapNow } from '../../domain/use-cases/reap-now.ts';
import { type RestartClusterDeps, restartCluster } from '../../domain/use-cases/restart-cluster.ts';
import { COMMAND_BODY_MAX_BYTES, jsonBody, validBody } from '../http/middleware.ts';
import { json } from '../http/responses.ts';
import { callerOf, clusterNameParameter } from './identity.ts';

/** Everything the API's use cases need. */
export type ApiDependencies = CreateClusterDeps &
  DestroyClusterDeps &
  CommandDeps &
  RestartClusterDeps &
  OpenNotebookDeps &
  QueryDeps &
  PauseClusterDeps &
  ReapNowDeps;

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
type BodyEvent<T> = Omit<APIGatewayProxyEvent, 'body'> & { body: T };

function withCreateRequest(
  route: (event: BodyEvent<CreateClusterRequest>) => Promise<APIGatewayProxyResult>,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonBody())
    .use(validBody(validateCreateClusterRequest))
    .handler((event) => route(event as unknown as BodyEvent<CreateClusterRequest>));
}

const COMMAND_ID = new RegExp(commandSchema.properties.id.pattern);

/** The `{id}` of a command route, checked against the command schema's pattern. */
function commandIdParameter(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!COMMAND_ID.test(id)) {
    throw new ValidationError(
      `id: must be a command id such as cmd-0190f3a2b4c5d6e7 (got ${escapeControlCharacters(JSON.stringify(id.slice(0, 80)))})`,
      { field: 'id' },
    );
  }
  return id;
}

const SWEEP_ID = new RegExp(sweepSchema.properties.id.pattern);

/** The `{id}` of a sweep route, checked against the sweep schema's pattern. */
function sweepIdParameter(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!SWEEP_ID.test(id)) {
    throw new ValidationError(
      `id: must be a sweep id such as sweep-0190f3a2b4c5d6e7, as POST /reap answers it (got ${escapeControlCharacters(JSON.stringify(id.slice(0, 80)))})`,
      { field: 'id' },
    );
  }
  return id;
}

/** An event id, as the events schema describes it: the only cursor the events route takes. */
const EVENT_ID = new RegExp(eventSchema.properties.id.pattern);
/** How long an events request may wait for one, in seconds, as the common schema bounds it. */
const WAIT = commonSchema.definitions.eventsWait;

/** The `wait` query parameter in milliseconds: 0 when absent, a 400 when not a whole number of seconds in range. */
function waitMsOf(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d{1,2}$/.test(text) || Number(text) < WAIT.minimum || Number(text) > WAIT.maximum) {
    throw new ValidationError(
      `wait: must be a whole number of seconds from ${WAIT.minimum} to ${WAIT.maximum} (got ${escapeControlCharacters(JSON.stringify(text.slice(0, 80)))})`,
      { field: 'wait' },
    );
  }
  return Number(text) * 1000;
}

/** Every route of the API, each calling one use case with these dependencies. */
export function apiRoutes(deps: ApiDependencies): RouterRoute<APIGatewayProxyEvent, APIGatewayProxyResult>[] {
  const plan = withCreateRequest(async (event) => json(200, (await prepareCluster(event.body, deps)).plan));

  const create = withCreateRequest(async (event) =>
    json(
      202,
      await createCluster(event.body, identityOf(callerOf(event as unknown as APIGatewayProxyEvent)), deps),
    ),
  );

  const list: Handler = async (event) => {
    const includeEnded = event.queryStringParameters?.all === 'true';
    return json(200, { clusters: await listClusters(includeEnded, callerOf(event), deps) });
  };

  const describe: Handler = async (event) =>
    json(200, await describeCluster(clusterNameParameter(event), callerOf(event), deps));

  const events: Handler = async (event) => {
    const after = event.queryStringParameters?.after;
    if (after !== undefined && !EVENT_ID.test(after)) {
      throw new ValidationError(
        `after: must be the id of an event this API returned, such as 2026-01-01T00:00:00.000Z#000000#00ff (got ${escapeControlCharacters(JSON.stringify(after.slice(0, 80)))})`,
        { field: 'after' },
      );
    }
    const waitMs = waitMsOf(event.queryStringParameters?.wait);
    return json(200, {
      events: await waitForClusterEvents(clusterNameParameter(event), after, waitMs, deps),
    });
  };

  const startOne = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonBody(COMMAND_BODY_MAX_BYTES))
    .use(validBody(validateStartCommandRequest))
    .handler(async (event) =>
      json(
        202,
        await startCommand(
          clusterNameParameter(event),
          event.body as unknown as StartCommandRequest,
          { principal: callerOf(event) },
          deps,
        ),
      ),
    );

  const commands: Handler = async (event) =>
    json(200, { commands: await listCommands(clusterNameParameter(event), callerOf(event), deps) });

  const readOne: Handler = async (event) =>
    json(
      200,
      await readCommand(
        clusterNameParameter(event),
        commandIdParameter(event),
        event.queryStringParameters?.offset,
        waitMsOf(event.queryStringParameters?.wait),
        callerOf(event),
        deps,
      ),
    );

  const cancelOne: Handler = async (event) =>
    json(
      202,
      await cancelCommand(
        clusterNameParameter(event),
        commandIdParameter(event),
        { principal: callerOf(event) },
        deps,
      ),
    );

  const destroy: Handler = async (event) =>
    json(202, await destroyCluster(clusterNameParameter(event), { principal: callerOf(event) }, deps));

  const notebook: Handler = async (event) =>
    json(200, await openNotebook(clusterNameParameter(event), { principal: callerOf(event) }, deps));

  const restart: Handler = async (event) =>
    json(202, await restartCluster(clusterNameParameter(event), { principal: callerOf(event) }, deps));

  const pause: Handler = async (event) =>
    json(202, await pauseCluster(clusterNameParameter(event), { principal: callerOf(event) }, deps));

  const resume: Handler = async (event) =>
    json(202, await resumeCluster(clusterNameParameter(event), { principal: callerOf(event) }, deps));

  const reap: Handler = async (event) => {
    const dryRun = event.queryStringParameters?.dryRun;
    if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
      throw new ValidationError(
        `dryRun: must be true or false (got ${escapeControlCharacters(JSON.stringify(dryRun.slice(0, 80)))})`,
        { field: 'dryRun' },
      );
    }
    return json(202, await reapNow({ principal: callerOf(event) }, { dryRun: dryRun === 'true' }, deps));
  };

  const sweep: Handler = async (event) =>
    json(200, await readSweep({ principal: callerOf(event) }, sweepIdParameter(event), deps));

  return [
    { method: 'POST', path: '/clusters', handler: create },
    { method: 'GET', path: '/clusters', handler: list },
    { method: 'GET', path: '/clusters/{name}', handler: describe },
    { method: 'DELETE', path: '/clusters/{name}', handler: destroy },
    { method: 'GET', path: '/clusters/{name}/events', handler: events },
    { method: 'POST', path: '/clusters/{name}/commands', handler: startOne as unknown as Handler },
    { method: 'GET', path: '/clusters/{name}/commands', handler: commands },
    { method: 'GET', path: '/clusters/{name}/commands/{id}', handler: readOne },
    { method: 'DELETE', path: '/clusters/{name}/commands/{id}', handler: cancelOne },
    { method: 'POST', path: '/clusters/{name}/restart', handler: restart },
    { method: 'GET', path: '/clusters/{name}/notebook', handler: notebook },
    { method: 'POST', path: '/clusters/{name}/pause', handler: pause },
    { method: 'POST', path: '/clusters/{name}/resume', handler: resume },
    { method: 'POST', path: '/plan', handler: plan },
    { method: 'POST', path: '/reap', handler: reap },
    { method: 'GET', path: '/reap/{id}', handler: sweep },
  ];
}
