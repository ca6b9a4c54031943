/**
 * The API Lambda end to end in-process: the real handler and middleware, a
 * real store on DynamoDB Local, the local instance-type catalog with fixed
 * facts, and a workflow starter that records what it was asked to start.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import type { WorkflowStarter } from '../../lambdas/domain/ports.ts';
import { handler } from '../../lambdas/handlers/api.ts';
import { provideDependencies } from '../../lambdas/handlers/composition.ts';
import { MAX_BODY_BYTES } from '../../lambdas/handlers/http/middleware.ts';
import { logger } from '../../lambdas/handlers/logger.ts';
import { assertValid, schemaIds } from '../../schemas/validate.ts';
import type { ApiError, Cluster, ClusterEvent, Plan } from '../../schemas/types.generated.ts';
import { ALICE_ARN, type ApiRequest, BOB_ARN, callApi } from '../support/api-events.ts';
import { makeTestStore, type TestStore } from '../support/dynamodb.ts';

interface Started {
  workflow: 'create' | 'destroy';
  executionName: string;
  input: object;
}

class RecordingWorkflows implements WorkflowStarter {
  readonly started: Started[] = [];
  failure: Error | undefined;
  /** Runs inside start, as a fast workflow's first steps would. */
  duringStart: (() => Promise<void>) | undefined;

  async start(workflow: 'create' | 'destroy', executionName: string, input: object): Promise<string> {
    if (this.failure) throw this.failure;
    this.started.push({ workflow, executionName, input });
    await this.duringStart?.();
    return `arn:aws:states:eu-west-1:123456789012:execution:bilbo-${workflow}:${executionName}`;
  }
}

const PROFILE = { instance: { ec2type: 't3.large' }, dask: { worker: { count: 2, nproc: 1, nthread: 2 } } };
const FACTS = { vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 };

let testStore: TestStore;
let workflows: RecordingWorkflows;

beforeEach(async () => {
  testStore = await makeTestStore();
  workflows = new RecordingWorkflows();
  let ids = 0;
  provideDependencies({
    store: testStore.store,
    catalog: new LocalMachineCatalog({ facts: FACTS }),
    workflows,
    clock: testStore.clock,
    newClusterId: () => `c-${(++ids).toString(16).padStart(16, '0')}`,
  });
});

const call = <T = unknown>(method: string, path: string, request?: ApiRequest) =>
  callApi<T>(handler, method, path, request);

const create = (name: string, extra: Record<string, unknown> = {}) =>
  call<Cluster>('POST', '/clusters', { body: { name, profile: PROFILE, ...extra } });

const everything = () => testStore.store.list({ includeEnded: true });

describe('the API handler', () => {
  describe('POST /clusters', () => {
    it('answers 202 with a CREATING record owned by the caller, planned with the overrides', async () => {
      const answer = await create('analytics', { overrides: ['dask.worker.count=3'], profileName: 'team' });

      expect(answer.status).toBe(202);
      expect(() => assertValid(schemaIds.cluster, answer.body, 'cluster')).not.toThrow();
      expect(answer.body).toMatchObject({
        name: 'analytics',
        state: 'CREATING',
        owner: ALICE_ARN,
        profileName: 'team',
      });
      expect(answer.body.plan.roles.find((role) => role.role === 'worker')?.count).toBe(3);
      expect(answer.body.plan.wantedWorkers).toBe(3);
    });

    it('starts the create workflow once, with the cluster id and the member roles', async () => {
      const answer = await create('analytics');

      expect(workflows.started).toEqual([
        {
          workflow: 'create',
          executionName: `${answer.body.id}-create`,
          input: { clusterId: answer.body.id, memberRoles: ['worker'] },
        },
      ]);
      expect(answer.body.executionArn).toBe(
        `arn:aws:states:eu-west-1:123456789012:execution:bilbo-create:${answer.body.id}-create`,
      );
    });

    it('records the cluster and its first event', async () => {
      const answer = await create('analytics');

      const recorded = await testStore.store.findByName('analytics');
      expect(recorded).toEqual(answer.body);
      const events = await testStore.store.events(answer.body.id);
      expect(events[0]).toMatchObject({ step: 'accepted', message: `create requested by ${ALICE_ARN}` });
    });

    it('answers 202 when the workflow writes to the record before the API records the execution', async () => {
      workflows.duringStart = async () => {
        const [cluster] = await testStore.store.list();
        await testStore.store.update(cluster!.id, cluster!.version, { workersJoined: 0 }, {
          step: 'launch-scheduler',
          message: 'launching scheduler',
        });
      };

      const answer = await create('analytics');

      expect(answer.status).toBe(202);
      expect(answer.body.executionArn).toContain(`${answer.body.id}-create`);
      expect((await testStore.store.get(answer.body.id))?.executionArn).toBe(answer.body.executionArn);
    });

    it('answers 409 CLUSTER_EXISTS for a second create with a live name, and keeps one record', async () => {
      await create('analytics');

      const second = await create('analytics');

      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ code: 'CLUSTER_EXISTS', field: 'name' });
      expect((second.body as unknown as ApiError).message).toContain('"analytics"');
      expect(await everything()).toHaveLength(1);
      expect(workflows.started).toHaveLength(1);
    });

    describe('when the create workflow cannot start', () => {
      beforeEach(() => {
        workflows.failure = Object.assign(new Error('Rate exceeded on arn:aws:states:eu-west-1:123456789012'), {
          name: 'ThrottlingException',
        });
        vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      });

      it('answers a 500 that quotes the request id and leaks nothing of the cause', async () => {
        const answer = await create('analytics');

        expect(answer.status).toBe(500);
        expect(answer.body).toEqual({
          code: 'INTERNAL',
          message: `internal error; quote request id ${answer.requestId} when reporting it`,
        });
        expect(logger.error).toHaveBeenCalledOnce();
      });

      it('records the cluster FAILED at start-workflow, freeing the name', async () => {
        await create('analytics');

        const [cluster] = await everything();
        expect(cluster).toMatchObject({
          state: 'FAILED',
          failure: { step: 'start-workflow', message: expect.stringContaining('Rate exceeded') },
        });
        workflows.failure = undefined;
        expect((await create('analytics')).status).toBe(202);
      });
    });
  });

  describe('POST /plan', () => {
    it('answers 200 with the plan, records nothing and starts nothing', async () => {
      const answer = await call<Plan>('POST', '/plan', {
        body: { name: 'analytics', profile: PROFILE, overrides: ['dask.worker.nproc=2'] },
      });

      expect(answer.status).toBe(200);
      expect(() => assertValid(schemaIds.plan, answer.body, 'plan')).not.toThrow();
      expect(answer.body).toMatchObject({ cluster: 'analytics', kind: 'dask', totalWorkers: 4 });
      expect(await everything()).toEqual([]);
      expect(workflows.started).toEqual([]);
    });
  });

  describe('GET /clusters', () => {
    it('lists the live clusters, newest first; all=true adds the ended ones', async () => {
      await create('first');
      testStore.clock.advance(1_000);
      await create('second');
      const ended = await create('ended');
      await testStore.store.transition(ended.body.id, {
        from: ['CREATING'],
        to: 'FAILED',
        event: { step: 'test', message: 'failed for the test' },
      });

      const live = await call<{ clusters: Cluster[] }>('GET', '/clusters');
      const all = await call<{ clusters: Cluster[] }>('GET', '/clusters', { query: { all: 'true' } });

      expect(live.status).toBe(200);
      expect(live.body.clusters.map((cluster) => cluster.name)).toEqual(['second', 'first']);
      expect(all.body.clusters.map((cluster) => cluster.name).sort()).toEqual(['ended', 'first', 'second']);
    });
  });

  describe('GET /clusters/{name}', () => {
    it('answers 200 with the record', async () => {
      const created = await create('analytics');

      const answer = await call<Cluster>('GET', '/clusters/analytics');

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(created.body);
    });
  });

  describe('GET /clusters/{name}/events', () => {
    it('answers the events oldest first, and only those after the given id', async () => {
      const created = await create('analytics');
      await testStore.store.appendEvent(created.body.id, { step: 'launch-scheduler', message: 'launching' });

      const all = await call<{ events: ClusterEvent[] }>('GET', '/clusters/analytics/events');
      const first = all.body.events[0]!;
      const later = await call<{ events: ClusterEvent[] }>('GET', '/clusters/analytics/events', {
        query: { after: first.id },
      });

      expect(all.status).toBe(200);
      expect(first.step).toBe('accepted');
      for (const event of all.body.events) {
        expect(() => assertValid(schemaIds.event, event, 'event')).not.toThrow();
      }
      expect(later.body.events.map((event) => event.id)).toEqual(all.body.events.slice(1).map((e) => e.id));
      expect(later.body.events.map((event) => event.step)).toContain('launch-scheduler');
    });
  });

  describe('DELETE /clusters/{name}', () => {
    it('answers 202 DESTROYING and starts the destroy workflow', async () => {
      const created = await create('analytics');

      const answer = await call<Cluster>('DELETE', '/clusters/analytics', { caller: BOB_ARN });

      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ id: created.body.id, state: 'DESTROYING' });
      expect(workflows.started.at(-1)).toMatchObject({
        workflow: 'destroy',
        input: { clusterId: created.body.id },
      });
      expect(answer.body.executionArn).toContain(':execution:bilbo-destroy:');
      const events = await testStore.store.events(created.body.id);
      expect(events.at(-2)).toMatchObject({ step: 'destroy-requested', message: `destroy requested by ${BOB_ARN}` });
    });

    it('answers the same record again while it is DESTROYING, without a second start', async () => {
      await create('analytics');
      const first = await call<Cluster>('DELETE', '/clusters/analytics');

      const again = await call<Cluster>('DELETE', '/clusters/analytics');

      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });

    it('answers 409 ILLEGAL_TRANSITION for a DESTROYED cluster', async () => {
      const created = await create('analytics');
      await call('DELETE', '/clusters/analytics');
      await testStore.store.transition(created.body.id, {
        from: ['DESTROYING'],
        to: 'DESTROYED',
        event: { step: 'record-destroyed', message: 'destroyed' },
      });

      const answer = await call<ApiError>('DELETE', '/clusters/analytics');

      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe('ILLEGAL_TRANSITION');
      expect(answer.body.message).toContain('DESTROYED');
      expect(workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });

    it('records FAILED at start-workflow when the destroy workflow cannot start, so destroy can be retried', async () => {
      vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      await create('analytics');
      workflows.failure = new Error('Rate exceeded');

      const failed = await call('DELETE', '/clusters/analytics');
      const recorded = await testStore.store.findByName('analytics');
      workflows.failure = undefined;
      const retried = await call<Cluster>('DELETE', '/clusters/analytics');

      expect(failed.status).toBe(500);
      expect(recorded).toMatchObject({ state: 'FAILED', failure: { step: 'start-workflow' } });
      expect(retried.status).toBe(202);
      expect(retried.body.state).toBe('DESTROYING');
      expect(workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });
  });
});

interface BadInput {
  what: string;
  method?: string;
  path?: string;
  request: ApiRequest;
  status: number;
  code: string;
  field?: string;
  /** The message must say where the problem is. */
  names: RegExp;
}

const named = (name: string): ApiRequest => ({ body: { name, profile: PROFILE } });
const overridden = (...overrides: string[]): ApiRequest => ({
  body: { name: 'analytics', profile: PROFILE, overrides },
});

const BAD_INPUTS: BadInput[] = [
  {
    what: 'malformed JSON',
    request: { body: '{"name":' },
    status: 400,
    code: 'INVALID_JSON',
    names: /request body is not valid JSON/,
  },
  {
    what: 'a JSON array body',
    request: { body: [{ name: 'analytics', profile: PROFILE }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    names: /request: must be an object/,
  },
  {
    what: 'no content type',
    request: { body: { name: 'analytics', profile: PROFILE }, contentType: null },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    names: /Content-Type: application\/json/,
  },
  {
    what: 'a text/plain body',
    request: { body: { name: 'analytics', profile: PROFILE }, contentType: 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    names: /Content-Type: application\/json/,
  },
  {
    what: 'a field of the wrong type',
    request: { body: { name: 'analytics', profile: { dask: { worker: { count: 'two' } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /profile\.dask\.worker\.count: must be integer/,
  },
  {
    what: 'an unknown top-level field',
    request: { body: { name: 'analytics', profile: PROFILE, workers: 3 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'workers',
    names: /unknown field "workers"; allowed: name, profile, profileName, overrides/,
  },
  {
    what: 'an unknown nested field',
    request: { body: { name: 'analytics', profile: { dask: { worker: { cout: 3 } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.cout',
    names: /profile\.dask\.worker: unknown field "cout"; allowed: instance, nproc, nthread, count/,
  },
  ...['../etc', 'a;rm -rf', 'a$(id)', 'a`id`', 'Analytics', `a${'b'.repeat(39)}`, ''].map(
    (name): BadInput => ({
      what: `the name ${JSON.stringify(name)}`,
      request: named(name),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'name',
      names: /^name: must match/,
    }),
  ),
  {
    what: 'an override without "="',
    request: overridden('dask.worker.count'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'overrides.0',
    names: /overrides\.0: must match/,
  },
  {
    what: 'an override of a list index that does not exist',
    request: {
      body: { name: 'analytics', profile: { instance: { tags: [['team', 'data']] } }, overrides: ['instance.tags.3.1=x'] },
    },
    status: 400,
    code: 'INVALID_OVERRIDE',
    names: /instance\.tags\.3: no such list index/,
  },
  {
    what: 'an override of __proto__',
    request: overridden('__proto__.x=1'),
    status: 400,
    code: 'INVALID_OVERRIDE',
    names: /"__proto__" cannot be set/,
  },
  {
    what: 'an override that makes the profile invalid',
    request: overridden('dask.worker.count=0'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /profile\.dask\.worker\.count: must be >= 1 \(got 0\)/,
  },
  {
    what: 'a ray section',
    request: { body: { name: 'analytics', profile: { ray: {} } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    names: /ray clusters are not supported yet/,
  },
  {
    what: 'a body over the size limit',
    request: { body: { name: 'analytics', profile: { description: 'x'.repeat(MAX_BODY_BYTES) } } },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    names: /request body is \d+ bytes; the limit is 65536/,
  },
  {
    what: 'an unknown route',
    method: 'PUT',
    path: '/clusters/analytics',
    request: {},
    status: 404,
    code: 'ROUTE_NOT_FOUND',
    names: /no route PUT \/clusters\/analytics/,
  },
  {
    what: 'an encoded path traversal in the name',
    method: 'GET',
    path: '/clusters/%2F..%2Fetc',
    request: {},
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /"\/\.\.\/etc" is not a valid cluster name/,
  },
  {
    what: 'a malformed percent-encoding in the name',
    method: 'GET',
    path: '/clusters/a%E0%A4%A',
    request: {},
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /not a valid cluster name/,
  },
  {
    what: 'a "%" in a name API Gateway already decoded',
    method: 'DELETE',
    path: '/clusters/100%25',
    request: { pathParameters: { name: '100%' } },
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /not a valid cluster name/,
  },
  {
    what: 'an unknown cluster',
    method: 'GET',
    path: '/clusters/nobody',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
  {
    what: 'the events of an unknown cluster',
    method: 'GET',
    path: '/clusters/nobody/events',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
  {
    what: 'the destroy of an unknown cluster',
    method: 'DELETE',
    path: '/clusters/nobody',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
];

describe('the API handler, given bad input', () => {
  it.each(BAD_INPUTS)('answers $status $code for $what, and records nothing', async (bad) => {
    const answer = await call<ApiError>(bad.method ?? 'POST', bad.path ?? '/clusters', bad.request);

    expect(answer.status).toBe(bad.status);
    expect(() => assertValid(schemaIds.error, answer.body, 'error')).not.toThrow();
    expect(answer.body).toEqual({
      code: bad.code,
      message: expect.stringMatching(bad.names),
      ...(bad.field === undefined ? {} : { field: bad.field }),
    });
    expect(await everything()).toEqual([]);
    expect(workflows.started).toEqual([]);
  });

  it.each(BAD_INPUTS.filter((bad) => !bad.method))('answers $status $code to POST /plan for $what too', async (bad) => {
    const answer = await call<ApiError>('POST', '/plan', bad.request);

    expect(answer.status).toBe(bad.status);
    expect(answer.body.code).toBe(bad.code);
  });

  it('accepts the content type header in any letter case', async () => {
    const answer = await call('POST', '/clusters', { ...named('analytics'), contentTypeHeader: 'Content-type' });

    expect(answer.status).toBe(202);
  });

  it('answers 400 for an events cursor no event id could be', async () => {
    await create('analytics');

    const answer = await call<ApiError>('GET', '/clusters/analytics/events', { query: { after: 'x'.repeat(2000) } });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
  });
});
