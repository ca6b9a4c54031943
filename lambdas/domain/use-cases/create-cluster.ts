import type { Cluster, CreateClusterRequest, Plan, Profile } from '../../../schemas/types.generated.ts';
import { createDeadline } from '../deadlines.ts';
import { NothingToDoError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { NOTHING_TO_DO } from '../plan-text.ts';
import type {
  Clock,
  ClusterStore,
  InstanceTypeCatalog,
  LaunchPreflight,
  SecretStore,
  WorkflowStarter,
} from '../ports.ts';
import { loadCluster } from '../workflow/load-cluster.ts';
import { WORKFLOWS } from '../workflows.ts';
import { prepareCluster } from './prepare-cluster.ts';

export interface CreateClusterDeps {
  store: ClusterStore;
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
  workflows: WorkflowStarter;
  secrets: SecretStore;
  clock: Clock;
  newClusterId: () => string;
  /** A fresh random secret, e.g. a notebook's token. */
  newSecret: () => string;
}

/**
 * Records the cluster as CREATING (the name must be free among live
 * clusters) and starts the create workflow behind it. When the workflow
 * cannot start, the record goes to FAILED so nothing is left half-made.
 */
export async function createCluster(
  request: CreateClusterRequest,
  owner: string,
  deps: CreateClusterDeps,
): Promise<Cluster> {
  const { name, plan, profile } = await prepareCluster(request, deps);
  if (plan.roles.length === 0) {
    const { emptyProfileHint } = kindOf(plan.kind);
    throw new NothingToDoError(`${NOTHING_TO_DO} The profile asks for no instance: ${emptyProfileHint}`);
  }
  const cluster = newClusterRecord({
    id: deps.newClusterId(),
    name,
    owner,
    plan,
    now: deps.clock.now(),
    ...(request.profileName ? { profileName: request.profileName } : {}),
    ...(profile.description ? { description: profile.description } : {}),
  });
  await deps.store.create(cluster, { step: 'accepted', message: `create requested by ${owner}` });

  const primaryRole = kindOf(plan.kind).primaryRole(plan);
  const memberRoles = plan.roles.filter((role) => role.role !== primaryRole).map((role) => role.role);
  let executionArn: string;
  let step = 'store-secrets';
  try {
    await storeSecrets(cluster.id, plan.kind, profile, deps);
    step = 'start-workflow';
    executionArn = await deps.workflows.start('create', WORKFLOWS.create.executionName(cluster), {
      clusterId: cluster.id,
      primaryRole,
      memberRoles,
    });
  } catch (error) {
    await abandon(cluster, step, error, deps);
    throw error;
  }
  // The workflow may have written to the record already: this write asks for no version.
  await deps.store.update(cluster.id, { changes: { executionArn } });
  return loadCluster(deps.store, cluster.id);
}

/** A cluster as recorded when its create is accepted: CREATING, version 1, nothing launched. */
export function newClusterRecord(fields: {
  id: string;
  name: string;
  owner: string;
  plan: Plan;
  now: Date;
  profileName?: string;
  /** The profile's, shown by `bilbo ls`. */
  description?: string;
}): Cluster {
  const { now, ...rest } = fields;
  const at = now.toISOString();
  return {
    ...rest,
    state: 'CREATING',
    version: 1,
    createdAt: at,
    updatedAt: at,
    deadline: createDeadline({ createdAt: at, plan: fields.plan }),
    instances: [],
    workersJoined: 0,
  };
}

/** The secrets the machines read at boot go to the secret store, never into the record or user-data. */
async function storeSecrets(
  clusterId: string,
  kind: Plan['kind'],
  profile: Profile,
  deps: CreateClusterDeps,
): Promise<void> {
  for (const [key, value] of Object.entries(kindOf(kind).secretsFor(profile, deps.newSecret))) {
    await deps.secrets.put(clusterId, key, value);
  }
}

/**
 * A create that cannot go on: no workflow will ever clean up after it, so
 * its secrets (a git password) go now, and the record goes to FAILED,
 * freeing the name.
 */
async function abandon(
  cluster: Cluster,
  step: string,
  error: unknown,
  deps: CreateClusterDeps,
): Promise<void> {
  const what =
    step === 'store-secrets' ? 'its secrets could not be stored' : 'the create workflow could not start';
  const kept = await deps.secrets.removeAll(cluster.id).then(
    () => '',
    (cleanup: unknown) =>
      `; removing its secrets failed too (${messageOf(cleanup)}): destroy the cluster to retry`,
  );
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['CREATING'],
    to: 'FAILED',
    changes: { failure: { step, message: `${messageOf(error)}${kept}` } },
    event: { step, message: `${what}: ${messageOf(error)}${kept}` },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
