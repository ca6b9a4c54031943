/**
 * The API Lambda in-process: the real handler and middleware over a real
 * store on DynamoDB Local, with a workflow starter that records its starts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lambdas/handlers/logger.ts';
import type { ApiError, Cluster, ClusterEvent, Plan } from '../../schemas/types.generated.ts';
import { assertValid, schemaIds } from '../../schemas/validate.ts';
import { ADMIN_SESSION_ARN, ALICE_ARN, BOB_ARN } from '../support/api-events.ts';
import { PROFILE, useApiHarness } from '../support/api-harness.ts';

const api = useApiHarness();
const { call, create, everything } = api;

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

      expect(api.workflows.started).toEqual([
        {
          workflow: 'create',
          executionName: `${answer.body.id}-create`,
          input: { clusterId: answer.body.id, primaryRole: 'scheduler', memberRoles: ['worker'] },
        },
      ]);
      expect(answer.body.executionArn).toBe(
        `arn:aws:states:eu-west-1:123456789012:execution:bilbo-create:${answer.body.id}-create`,
      );
    });

    it('records the cluster and its first event', async () => {
      const answer = await create('analytics');

      const recorded = await api.testStore.store.findByName('analytics');
      expect(recorded).toEqual(answer.body);
      const events = await api.testStore.store.events(answer.body.id);
      expect(events[0]).toMatchObject({ step: 'accepted', message: `create requested by ${ALICE_ARN}` });
    });

    it('answers 202 when the workflow writes to the record before the API records the execution', async () => {
      api.workflows.duringStart = async () => {
        const [cluster] = await api.testStore.store.list();
        await api.testStore.store.update(cluster!.id, {
          changes: { workersJoined: 0 },
          event: { step: 'launch-scheduler', message: 'launching scheduler' },
        });
      };

      const answer = await create('analytics');

      expect(answer.status).toBe(202);
      expect(answer.body.executionArn).toContain(`${answer.body.id}-create`);
      expect((await api.testStore.store.get(answer.body.id))?.executionArn).toBe(answer.body.executionArn);
    });

    it('answers 409 CLUSTER_EXISTS for a second create with a live name, and keeps one record', async () => {
      await create('analytics');

      const second = await create('analytics');

      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ code: 'CLUSTER_EXISTS', field: 'name' });
      expect((second.body as unknown as ApiError).message).toContain('"analytics"');
      expect(await everything()).toHaveLength(1);
      expect(api.workflows.started).toHaveLength(1);
    });

    describe('when the create workflow cannot start', () => {
      beforeEach(() => {
        api.workflows.failure = Object.assign(
          new Error('Rate exceeded on arn:aws:states:eu-west-1:123456789012'),
          {
            name: 'ThrottlingException',
          },
        );
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
        api.workflows.failure = undefined;
        expect((await create('analytics')).status).toBe(202);
      });
    });

    describe('the roles follow the profile', () => {
      const instance = { ec2type: 't3.medium' };

      it('answers 422 NOTHING_TO_DO for a profile with neither dask nor notebook, and makes nothing', async () => {
        const answer = await create('nothing', { profile: { instance } });

        expect(answer.status).toBe(422);
        expect(answer.body).toMatchObject({ code: 'NOTHING_TO_DO' });
        expect((answer.body as unknown as ApiError).message).toMatch(
          /^Nothing to do\. .*"dask": \{\}.*"notebook": \{\}/,
        );
        expect(await everything()).toEqual([]);
        expect(api.workflows.started).toEqual([]);
      });

      it('launches a scheduler and one worker for "dask": {}', async () => {
        const answer = await create('dask-only', { profile: { instance, dask: {} } });

        expect(answer.body.plan.roles.map((role) => [role.role, role.count])).toEqual([
          ['scheduler', 1],
          ['worker', 1],
        ]);
      });
    });
  });

  describe('POST /plan', () => {
    it('plans no role for a profile with neither dask nor notebook', async () => {
      const answer = await call<Plan>('POST', '/plan', {
        body: { name: 'nothing', profile: { instance: { ec2type: 't3.medium' } } },
      });

      expect(answer.status).toBe(200);
      expect(answer.body.roles).toEqual([]);
    });

    it('answers 200 with the plan, records nothing and starts nothing', async () => {
      const answer = await call<Plan>('POST', '/plan', {
        body: { name: 'analytics', profile: PROFILE, overrides: ['dask.worker.nproc=2'] },
      });

      expect(answer.status).toBe(200);
      expect(() => assertValid(schemaIds.plan, answer.body, 'plan')).not.toThrow();
      expect(answer.body).toMatchObject({ cluster: 'analytics', kind: 'dask', totalWorkers: 4 });
      expect(await everything()).toEqual([]);
      expect(api.workflows.started).toEqual([]);
    });
  });

  describe('GET /clusters', () => {
    it('lists the live clusters, newest first; all=true adds the ended ones', async () => {
      await create('first');
      api.testStore.clock.advance(1_000);
      await create('second');
      const ended = await create('ended');
      await api.testStore.store.transition(ended.body.id, {
        name: 'ended',
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

    it("carries the profile's description, for `bilbo ls`", async () => {
      await create('analytics', { profile: { ...PROFILE, description: 'nightly churn model' } });
      await create('plain');

      expect((await call<Cluster>('GET', '/clusters/analytics')).body.description).toBe(
        'nightly churn model',
      );
      expect((await call<Cluster>('GET', '/clusters/plain')).body).not.toHaveProperty('description');
    });

    it("carries the profile's webbrowser in the plan, for `bilbo dashboard`", async () => {
      await create('analytics', { profile: { ...PROFILE, webbrowser: '/opt/browsers/firefox' } });

      const answer = await call<Cluster>('GET', '/clusters/analytics');

      expect(() => assertValid(schemaIds.cluster, answer.body, 'cluster')).not.toThrow();
      expect(answer.body.plan.webbrowser).toBe('/opt/browsers/firefox');
    });

    it("tells only the owner the webbrowser: others' CLIs must not run a program a teammate chose", async () => {
      const owner = 'arn:aws:sts::123456789012:assumed-role/data-team/alice';
      const other = 'arn:aws:iam::123456789012:user/mallory';
      await create('analytics', { profile: { ...PROFILE, webbrowser: '/home/alice/evil.sh' } }, owner);

      const asOwner = await call<Cluster>('GET', '/clusters/analytics', { caller: owner });
      const asOther = await call<Cluster>('GET', '/clusters/analytics', { caller: other });
      const listed = await call<{ clusters: Cluster[] }>('GET', '/clusters', { caller: other });

      expect(asOwner.body.plan.webbrowser).toBe('/home/alice/evil.sh');
      expect(asOther.status).toBe(200);
      expect(asOther.body.plan).not.toHaveProperty('webbrowser');
      expect(listed.body.clusters[0]!.plan).not.toHaveProperty('webbrowser');
    });
  });

  describe('GET /clusters/{name}/events', () => {
    it('answers the events oldest first, and only those after the given id', async () => {
      const created = await create('analytics');
      await api.testStore.store.appendEvent(created.body.id, {
        step: 'launch-scheduler',
        message: 'launching',
      });

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

      const answer = await call<Cluster>('DELETE', '/clusters/analytics', { caller: ADMIN_SESSION_ARN });

      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({
        id: created.body.id,
        state: 'DESTROYING',
        destroyReason: `destroy requested by ${ADMIN_SESSION_ARN}`,
      });
      expect(api.workflows.started.at(-1)).toMatchObject({
        workflow: 'destroy',
        input: { clusterId: created.body.id },
      });
      expect(answer.body.executionArn).toContain(':execution:bilbo-destroy:');
      const events = await api.testStore.store.events(created.body.id);
      expect(events.at(-1)).toMatchObject({
        step: 'destroy-requested',
        state: 'DESTROYING',
        message: `destroy requested by ${ADMIN_SESSION_ARN}`,
      });
    });

    describe('only the owner or an admin', () => {
      const callers = {
        'the owner': { caller: ALICE_ARN, status: 202 },
        'another user': { caller: BOB_ARN, status: 403 },
        "an admin's assumed-role session (the admin role is configured with its path)": {
          caller: ADMIN_SESSION_ARN,
          status: 202,
        },
        'another session of a role that is not an admin': {
          caller: 'arn:aws:sts::123456789012:assumed-role/analysts/dave',
          status: 403,
        },
      };

      for (const [who, { caller, status }] of Object.entries(callers)) {
        it(`${who}: destroy answers ${status}`, async () => {
          const created = await create('analytics');

          const answer = await call<Cluster | ApiError>('DELETE', '/clusters/analytics', { caller });

          expect(answer.status).toBe(status);
          const destroys = api.workflows.started.filter((started) => started.workflow === 'destroy');
          const record = await api.testStore.store.get(created.body.id);
          if (status === 202) {
            expect(record?.state).toBe('DESTROYING');
            expect(destroys).toHaveLength(1);
          } else {
            expect(answer.body).toEqual({
              code: 'NOT_OWNER',
              message: `Only the owner of cluster "analytics" (${ALICE_ARN}) or an admin may destroy it. Ask them, or an admin of this bilbo deployment.`,
            });
            expect(record).toMatchObject({ state: 'CREATING', version: created.body.version });
            expect(destroys).toEqual([]);
          }
        });
      }

      it('records a role session’s role as the owner, so another session of the role may destroy', async () => {
        const session = (name: string) => `arn:aws:sts::123456789012:assumed-role/analysts/${name}`;
        const created = await create('analytics', {}, session('erin'));

        expect(created.body.owner).toBe('arn:aws:iam::123456789012:role/analysts');
        const answer = await call('DELETE', '/clusters/analytics', { caller: session('frank') });
        expect(answer.status).toBe(202);
      });
    });

    it('answers the same record again while it is DESTROYING, without a second start', async () => {
      await create('analytics');
      const first = await call<Cluster>('DELETE', '/clusters/analytics');

      const again = await call<Cluster>('DELETE', '/clusters/analytics');

      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(api.workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });

    it('answers 409 ILLEGAL_TRANSITION for a DESTROYED cluster', async () => {
      const created = await create('analytics');
      await call('DELETE', '/clusters/analytics');
      await api.testStore.store.transition(created.body.id, {
        name: 'analytics',
        from: ['DESTROYING'],
        to: 'DESTROYED',
        event: { step: 'record-destroyed', message: 'destroyed' },
      });

      const answer = await call<ApiError>('DELETE', '/clusters/analytics');

      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe('ILLEGAL_TRANSITION');
      expect(answer.body.message).toContain('DESTROYED');
      expect(api.workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });

    it('records FAILED at start-workflow when the destroy workflow cannot start, so destroy can be retried', async () => {
      vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      await create('analytics');
      api.workflows.failure = new Error('Rate exceeded');

      const failed = await call('DELETE', '/clusters/analytics');
      const recorded = await api.testStore.store.findByName('analytics');
      api.workflows.failure = undefined;
      const retried = await call<Cluster>('DELETE', '/clusters/analytics');

      expect(failed.status).toBe(500);
      expect(recorded).toMatchObject({ state: 'FAILED', failure: { step: 'start-workflow' } });
      expect(retried.status).toBe(202);
      expect(retried.body.state).toBe('DESTROYING');
      expect(api.workflows.started.filter((started) => started.workflow === 'destroy')).toHaveLength(1);
    });
  });

  describe('GET /clusters/{name}/notebook', () => {
    const NOTEBOOK_PROFILE = { ...PROFILE, notebook: {}, webbrowser: 'firefox' };

    /** A cluster with a notebook, made READY at the given URL as the create workflow would. */
    async function readyWithNotebook(notebookUrl = 'http://203.0.113.7:8888'): Promise<Cluster> {
      const created = await call<Cluster>('POST', '/clusters', {
        body: { name: 'analytics', profile: NOTEBOOK_PROFILE },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(202);
      await api.testStore.store.transition(created.body.id, {
        name: 'analytics',
        from: ['CREATING'],
        to: 'READY',
        changes: { notebookUrl },
        event: { step: 'record-ready', message: 'ready' },
      });
      return created.body;
    }

    it("gives the owner the notebook's URL with its token, and the profile's browser", async () => {
      const cluster = await readyWithNotebook();
      const token = await api.secrets.read(api.secrets.nameOf(cluster.id, 'jupyter-token'));

      const answer = await call<{ url: string; webbrowser?: string }>('GET', '/clusters/analytics/notebook');

      expect(answer.status).toBe(200);
      expect(token).toMatch(/^.{32,}$/);
      expect(answer.body).toEqual({
        url: `http://203.0.113.7:8888/?token=${encodeURIComponent(token!)}`,
        webbrowser: 'firefox',
      });
      expect(() => assertValid(schemaIds.notebookLink, answer.body, 'notebook link')).not.toThrow();
    });

    it('gives it to an admin, without the owner’s browser, and refuses anyone else', async () => {
      await readyWithNotebook();

      const admin = await call<{ url: string }>('GET', '/clusters/analytics/notebook', {
        caller: ADMIN_SESSION_ARN,
      });
      const other = await call<ApiError>('GET', '/clusters/analytics/notebook', { caller: BOB_ARN });

      expect(admin.status).toBe(200);
      expect(admin.body).not.toHaveProperty('webbrowser');
      expect(other.status).toBe(403);
      expect(other.body.code).toBe('NOT_OWNER');
      expect(other.body.message).toMatch(/may open the notebook of it/);
      expect(JSON.stringify(other.body)).not.toContain('token');
    });

    it('answers 409 while the cluster is being created, and 404 for a cluster without a notebook', async () => {
      await call('POST', '/clusters', { body: { name: 'analytics', profile: NOTEBOOK_PROFILE } });
      await create('dask-only');

      const creating = await call<ApiError>('GET', '/clusters/analytics/notebook');
      const none = await call<ApiError>('GET', '/clusters/dask-only/notebook');
      const unknown = await call<ApiError>('GET', '/clusters/nobody/notebook');

      expect(creating.status).toBe(409);
      expect(creating.body.message).toMatch(/is CREATING: its notebook opens once it is READY/);
      expect(none.status).toBe(404);
      expect(none.body).toMatchObject({ code: 'NO_NOTEBOOK' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('CLUSTER_NOT_FOUND');
    });
  });
});
