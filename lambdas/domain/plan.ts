/**
 * The plan: what a create will launch, decided before anything is launched,
 * so `bilbo plan` shows exactly what `bilbo up` does.
 */
import profileSchema from '../../schemas/profile.schema.json' with { type: 'json' };
import type {
  InstanceTypeFacts,
  Plan,
  Profile,
  ResolvedInstance,
  RolePlan,
} from '../../schemas/types.generated.ts';
import { assertClusterName } from './cluster-name.ts';
import { sizeDaskWorkers } from './kinds/dask/sizing.ts';
import type { InstanceTypeCatalog } from './ports.ts';
import { resolveRoles } from './profile/resolve.ts';

const defaults = {
  readyTimeout: profileSchema.properties.ready_timeout.default,
  idleTimeout: profileSchema.properties.idle_timeout.default,
  maxLifetime: profileSchema.properties.max_lifetime.default,
};

/** Below this, a worker process is likely to spill or be killed by its nanny. */
const SMALL_WORKER_BYTES = 1024 ** 3;

export interface PlanInput {
  name: string;
  profile: Profile;
  catalog: InstanceTypeCatalog;
}

export async function buildPlan({ name, profile, catalog }: PlanInput): Promise<Plan> {
  const cluster = assertClusterName(name);
  const specs = resolveRoles(profile);

  const lookups = new Map<string | undefined, Promise<InstanceTypeFacts>>();
  const factsOf = (instance: ResolvedInstance): Promise<InstanceTypeFacts> => {
    let lookup = lookups.get(instance.ec2type);
    if (!lookup) {
      lookup = catalog.describe(instance.ec2type);
      lookups.set(instance.ec2type, lookup);
    }
    return lookup;
  };

  const notes: string[] = [];
  const roles: RolePlan[] = [];
  for (const spec of specs) {
    const instanceType = await factsOf(spec.instance);
    const rolePlan: RolePlan = { role: spec.role, count: spec.count, instance: spec.instance, instanceType };
    if (spec.role === 'worker') {
      rolePlan.dask = sizeDaskWorkers(instanceType, spec.worker ?? {});
      notes.push(...workerNotes(rolePlan.dask, instanceType));
    }
    if (spec.notebook) rolePlan.notebook = spec.notebook;
    roles.push(rolePlan);
  }

  const catalogNotes = roles.flatMap((role) => catalog.notes(role.instance));
  const worker = roles.find((role) => role.role === 'worker');
  const totalWorkers = worker ? worker.count * (worker.dask?.nworkers ?? 0) : 0;
  const wanted = wantedWorkers(profile.wait_workers, totalWorkers);
  const idleTimeoutSeconds = profile.idle_timeout ?? defaults.idleTimeout;
  const maxLifetimeSeconds = profile.max_lifetime ?? defaults.maxLifetime;
  if (wanted.note) notes.push(wanted.note);
  if (idleTimeoutSeconds === 0) notes.push('idle_timeout is 0: the cluster is never removed for being idle');
  if (maxLifetimeSeconds === 0) notes.push('max_lifetime is 0: the cluster runs until you destroy it');

  return {
    cluster,
    kind: 'dask',
    roles,
    wantedWorkers: wanted.count,
    totalWorkers,
    readyTimeoutSeconds: profile.ready_timeout ?? defaults.readyTimeout,
    idleTimeoutSeconds,
    maxLifetimeSeconds,
    notes: [...new Set([...catalogNotes, ...notes])],
    ...(profile.instance_prefix !== undefined ? { instancePrefix: profile.instance_prefix } : {}),
    ...(profile.private_command !== undefined ? { privateCommand: profile.private_command } : {}),
  };
}

function wantedWorkers(
  waitWorkers: Profile['wait_workers'],
  totalWorkers: number,
): { count: number; note?: string } {
  if (waitWorkers === undefined || waitWorkers === true) return { count: totalWorkers };
  if (waitWorkers === false) {
    return { count: 0, note: 'wait_workers is false: the cluster is READY once the scheduler answers' };
  }
  if (waitWorkers > totalWorkers) {
    return {
      count: totalWorkers,
      note: `wait_workers is ${waitWorkers} but the cluster runs ${totalWorkers} worker process${totalWorkers === 1 ? '' : 'es'}: waiting for ${totalWorkers}`,
    };
  }
  return { count: waitWorkers };
}

function workerNotes(dask: NonNullable<RolePlan['dask']>, facts: InstanceTypeFacts): string[] {
  const notes: string[] = [];
  const threads = dask.nworkers * dask.nthreads;
  if (threads < facts.vcpus) {
    notes.push(
      `each worker instance runs ${threads} Dask thread${threads === 1 ? '' : 's'} on ${facts.vcpus} vCPUs: raise dask.worker.nproc or dask.worker.nthread to use them all`,
    );
  } else if (threads > facts.vcpus) {
    notes.push(`each worker instance runs ${threads} Dask threads on ${facts.vcpus} vCPUs (over-subscribed)`);
  }
  if (dask.memoryLimitBytes < SMALL_WORKER_BYTES) {
    notes.push(
      `each Dask worker process gets ${(dask.memoryLimitBytes / 1024 ** 3).toFixed(1)} GiB of memory: use fewer processes (dask.worker.nproc) or a larger instance type`,
    );
  }
  return notes;
}
