/**
 * User-data as the workflow produces it: a profile goes through planning
 * and launchRole (with the fake provider), and each role's LaunchRequest is
 * rendered. Checks that no secret value reaches user-data and that the
 * profile schema's limits keep the largest valid profile within EC2's 16 KB.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../../../../../lambdas/adapters/local/memory-secret-store.ts';
import { ValidationError } from '../../../../../lambdas/domain/errors.ts';
import { renderUserData, USER_DATA_MAX_BYTES } from '../../../../../lambdas/domain/kinds/dask/user-data.ts';
import { kindOf } from '../../../../../lambdas/domain/kinds/index.ts';
import type { ClusterStore, LaunchRequest } from '../../../../../lambdas/domain/ports.ts';
import { newClusterRecord } from '../../../../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../../../../lambdas/domain/use-cases/prepare-cluster.ts';
import { launchRole } from '../../../../../lambdas/domain/workflow/launch-role.ts';
import type { Cluster, Profile } from '../../../../../schemas/types.generated.ts';
import { validateProfile } from '../../../../../schemas/validate.ts';
import { FakeMachineProvider } from '../../../../support/fake-provider.ts';
import { fakeCatalog } from '../../plan-fixtures.ts';

const CLUSTER_ID = 'c-0123456789abcdef';
/** The longest name a cluster may have (^[a-z][a-z0-9-]{0,38}$). */
const LONGEST_NAME = `a${'-'.repeat(38)}`;
const LONGEST_REGION = 'ap-southeast-4';

/** A ClusterStore that holds one record in memory: all launchRole needs. */
function oneClusterStore(cluster: Cluster): ClusterStore {
  let record = cluster;
  const store: Partial<ClusterStore> = {
    get: async (id) => (id === record.id ? record : undefined),
    appendEvent: async (id, event) => ({ id: '1', clusterId: id, at: record.updatedAt, ...event }),
    update: async (_id, { changes }) => {
      const { roleInstances, ...fields } = changes;
      const launched = Object.values(roleInstances ?? {}).flat();
      record = { ...record, ...fields, instances: [...(record.instances ?? []), ...launched] };
    },
  };
  return store as ClusterStore;
}

/** Plans the profile and launches every role as the create workflow does; returns the launch requests. */
async function launchRequestsOf(profile: Profile): Promise<LaunchRequest[]> {
  const { plan } = await prepareCluster(
    { name: LONGEST_NAME, profile },
    { catalog: fakeCatalog().catalog, preflight: { check: async () => {} } },
  );
  const cluster = newClusterRecord({
    id: CLUSTER_ID,
    name: LONGEST_NAME,
    owner: 'arn:aws:iam::123456789012:user/alice',
    plan,
    now: new Date('2026-11-28T10:00:00.000Z'),
  });
  const provider = new FakeMachineProvider();
  const deps = { store: oneClusterStore(cluster), provider, secrets: new MemorySecretStore() };
  const primaryRole = kindOf(plan.kind).primaryRole(plan);
  const { primaryAddress } = await launchRole({ clusterId: CLUSTER_ID, role: primaryRole }, deps);
  for (const { role } of plan.roles.filter((rolePlan) => rolePlan.role !== primaryRole)) {
    await launchRole({ clusterId: CLUSTER_ID, role, primaryAddress: primaryAddress! }, deps);
  }
  return provider.launchRequests();
}

function userDataOf(request: LaunchRequest): string {
  return renderUserData({
    clusterId: request.clusterId,
    clusterName: request.clusterName,
    role: request.role,
    bootstrap: request.bootstrap,
    region: LONGEST_REGION,
  });
}

describe('user-data from a planned profile', () => {
  it('carries the names of the secrets, never their values', async () => {
    const marker = 'SECRET-MARKER-4f1d9c';
    const requests = await launchRequestsOf({
      dask: {},
      notebook: {
        git: {
          repository: 'https://github.com/acme/models.git',
          user: 'someone',
          email: 'someone@example.com',
          password: marker,
        },
      },
    });

    expect(requests.map((request) => request.role)).toEqual(['scheduler', 'worker', 'notebook']);
    for (const request of requests) {
      expect(JSON.stringify(request)).not.toContain(marker);
      expect(userDataOf(request)).not.toContain(marker);
    }
    const notebook = userDataOf(requests[2]!);
    expect(notebook).toContain(`'/bilbo/clusters/${CLUSTER_ID}/jupyter-token'`);
    // The clones are the create's setup commands, after boot: user-data names no git setting at all.
    expect(notebook).not.toContain('git-password');
    expect(notebook).not.toContain('github.com');
    expect(notebook).not.toContain('someone');
  });
});

// ------------------------------------------------------------ the largest valid profile

interface Limit {
  maxLength: number;
  maxItems?: number;
}

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../../../schemas/profile.schema.json'), 'utf8'),
) as ProfileSchema;

interface ProfileSchema {
  definitions: {
    instanceType: { properties: { init_cmd: { maxItems: number; items: { maxLength: number } } } };
    gitType: {
      properties: {
        repository: { anyOf: [{ maxLength: number }, { maxItems: number; items: { maxLength: number } }] };
        user: { maxLength: number };
        email: { maxLength: number };
      };
    };
  };
  properties: { notebook: { properties: { workdir: { maxLength: number } } } };
}

/**
 * The schema's own limits on the notebook's values: the workdir reaches
 * user-data; the git settings (like init_cmd) reach remote commands instead,
 * one clone per command, and are bounded all the same.
 */
function limits(): Record<'repository' | 'user' | 'email' | 'workdir', Limit> {
  const { gitType } = schema.definitions;
  const repository = gitType.properties.repository.anyOf;
  return {
    repository: {
      maxItems: repository[1].maxItems,
      maxLength: Math.max(repository[0].maxLength, repository[1].items.maxLength),
    },
    user: { maxLength: gitType.properties.user.maxLength },
    email: { maxLength: gitType.properties.email.maxLength },
    workdir: { maxLength: schema.properties.notebook.properties.workdir.maxLength },
  };
}

/**
 * Every list at its longest, every string at its longest, made of the
 * costliest character: `'` (four bytes once shell-quoted) or a four-byte
 * UTF-8 character. JSON Schema lengths count characters, not bytes.
 */
function largestProfile(fill: string, over?: keyof ReturnType<typeof limits>): unknown {
  const limit = limits();
  const one = (name: keyof typeof limit) => (over === name ? 1 : 0);
  const text = (length: number) => fill.repeat(length);
  const domain = '@a.io';
  return {
    dask: {},
    notebook: {
      workdir: text(limit.workdir.maxLength + one('workdir')),
      git: {
        repository: Array.from(
          { length: limit.repository.maxItems! + one('repository') },
          () => `https://${text(limit.repository.maxLength - 'https://'.length)}`,
        ),
        user: text(limit.user.maxLength + one('user')),
        // The email format allows ' in the local part, not non-ASCII.
        email: `${"'".repeat(limit.email.maxLength - domain.length + one('email'))}${domain}`,
        password: 'p'.repeat(1024),
      },
    },
  };
}

describe('the profile schema’s limits', () => {
  it("bound every one of the notebook's values", () => {
    for (const [name, limit] of Object.entries(limits())) {
      expect(limit.maxLength, name).toBeGreaterThan(0);
      if (name === 'repository') expect(limit.maxItems, name).toBeGreaterThan(0);
    }
  });

  it.each(["'", '🎉'])('accept the largest profile, made of %j', (fill) => {
    const profile = largestProfile(fill);
    expect(validateProfile(profile)).toEqual(profile);
  });

  it.each(['repository', 'user', 'email', 'workdir'] as const)(
    'refuse a profile one past the %s limit',
    (over) => {
      expect(() => validateProfile(largestProfile("'", over))).toThrow(ValidationError);
    },
  );

  it('refuse more init commands than allowed', () => {
    const count = schema.definitions.instanceType.properties.init_cmd.maxItems + 1;
    expect(() =>
      validateProfile({ instance: { init_cmd: Array.from({ length: count }, () => 'true') } }),
    ).toThrow(ValidationError);
  });

  it.each(["'", '🎉'])(
    'keep every role’s user-data of the largest profile (made of %j) under 16,384 bytes',
    async (fill) => {
      const requests = await launchRequestsOf(validateProfile(largestProfile(fill)));

      expect(requests.map((request) => request.role)).toEqual(['scheduler', 'worker', 'notebook']);
      for (const request of requests) {
        const bytes = Buffer.byteLength(userDataOf(request));
        expect(bytes, request.role).toBeLessThanOrEqual(USER_DATA_MAX_BYTES);
      }
    },
  );

  it('leave the git settings of the largest profile out of the notebook’s user-data', async () => {
    const requests = await launchRequestsOf(validateProfile(largestProfile('🎉')));
    const notebook = requests.find((request) => request.role === 'notebook')!;
    const userData = userDataOf(notebook);
    expect(userData).not.toContain('https://');
    expect(userData).not.toContain('@a.io');
  });
});
