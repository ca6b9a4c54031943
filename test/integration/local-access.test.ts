/**
 * Owner-only actions through signed requests to `bilbo local`: several
 * local identities (`--users`), one of them an admin (`--admin`), and the
 * matrix of who may do what. Destroy is the only mutating action so far;
 * the actions to come go through the same check (lambdas/domain/access.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestError } from '../../cli/errors.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;

beforeAll(async () => {
  harness = await startTestControlPlane({ users: ['alice', 'bob', 'carol'], admins: ['carol'] });
});

afterAll(async () => {
  await harness?.stop();
});

const PROFILE = { dask: { worker: { count: 1, nproc: 1, nthread: 1 } }, ready_timeout: 60 };

describe('who may destroy a cluster, through signed requests', () => {
  const cases = [
    { who: 'its owner', caller: 'alice', allowed: true },
    { who: 'another user', caller: 'bob', allowed: false },
    { who: 'an admin', caller: 'carol', allowed: true },
  ];

  for (const [i, { who, caller, allowed }] of cases.entries()) {
    it(`${who} (${caller}): ${allowed ? 'destroys it' : '403, naming the owner, and the cluster is untouched'}`, async () => {
      const name = `shared-${i}`;
      const created = await harness.apiAs('alice').createCluster({ name, profile: PROFILE });
      expect(created.owner).toBe('local:alice');

      const destroying = harness.apiAs(caller).destroyCluster(name);

      if (allowed) {
        expect(await destroying).toMatchObject({ name, state: 'DESTROYING' });
      } else {
        const refusal = await destroying.catch((error: unknown) => error);
        expect(refusal).toBeInstanceOf(ApiRequestError);
        expect(refusal).toMatchObject({
          status: 403,
          code: 'NOT_OWNER',
          message: `Only the owner of cluster "${name}" (local:alice) or an admin may destroy it. Ask them, or an admin of this bilbo deployment.`,
        });
        expect((await harness.api.getCluster(name)).state).not.toBe('DESTROYING');
        await harness.apiAs('alice').destroyCluster(name);
      }
      await expect
        .poll(
          async () => (await harness.api.listClusters({ all: true })).find((c) => c.name === name)?.state,
          {
            timeout: 30_000,
          },
        )
        .toBe('DESTROYED');
    });
  }
});
