/** A Dask cluster's roles, planned: instance types looked up, workers sized, what to wait for. */
import type {
  DaskWorkerOptions,
  InstanceTypeFacts,
  Plan,
  Profile,
  ResolvedInstance,
  RolePlan,
} from '../../../../schemas/types.generated.ts';
import type { KindPlan } from '../kind.ts';
import { resolveRoles } from './roles.ts';
import { sizeDaskWorkers } from './sizing.ts';

/** Below this, a worker process is likely to spill or be killed by its nanny. */
const SMALL_WORKER_BYTES = 1024 ** 3;
const GIB = 1024 ** 3;

export async function planDaskRoles(
  profile: Profile,
  factsOf: (instance: ResolvedInstance) => Promise<InstanceTypeFacts>,
): Promise<KindPlan> {
  const notes: string[] = [];
  const roles: RolePlan[] = [];
  for (const spec of resolveRoles(profile)) {
    const instanceType = await factsOf(spec.instance);
    const rolePlan: RolePlan = { role: spec.role, count: spec.count, instance: spec.instance, instanceType };
    if (spec.role === 'worker') {
      rolePlan.dask = sizeDaskWorkers(instanceType, spec.worker ?? {});
      notes.push(...workerNotes(rolePlan.dask, instanceType));
    }
    if (spec.notebook) rolePlan.notebook = spec.notebook;
    roles.push(rolePlan);
  }
  const worker = roles.find((role) => role.role === 'worker');
  const totalWorkers = worker ? worker.count * (worker.dask?.nworkers ?? 0) : 0;
  const wanted = wantedWorkers(profile.wait_workers, totalWorkers);
  if (wanted.note) notes.push(wanted.note);
  return { roles, totalWorkers, wantedWorkers: wanted.count, notes };
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

function workerNotes(dask: DaskWorkerOptions, facts: InstanceTypeFacts): string[] {
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
      `each Dask worker process gets ${(dask.memoryLimitBytes / GIB).toFixed(1)} GiB of memory: use fewer processes (dask.worker.nproc) or a larger instance type`,
    );
  }
  return notes;
}

/** A role's Dask details as `bilbo plan` prints them. */
export function describeDaskRole(role: RolePlan): string[] {
  const details: string[] = [];
  if (role.dask) {
    const { nworkers, nthreads, memoryLimitBytes } = role.dask;
    details.push(
      `${count(nworkers, 'process', 'processes')} × ${count(nthreads, 'thread', 'threads')}, ${(memoryLimitBytes / GIB).toFixed(1)} GiB each`,
    );
  }
  if (role.notebook?.workdir) details.push(`workdir ${role.notebook.workdir}`);
  const repositories = role.notebook?.gitRepositories ?? [];
  if (repositories.length > 0) details.push(`git ${repositories.join(', ')}`);
  return details;
}

export function describeDaskReadiness(plan: Plan): string {
  // Records planned before totalWorkers existed count their worker processes from the roles.
  const total =
    plan.totalWorkers ??
    plan.roles
      .filter((role) => role.role === 'worker')
      .reduce((sum, role) => sum + role.count * (role.dask?.nworkers ?? 0), 0);
  if (!plan.roles.some((role) => role.role === 'scheduler')) {
    return plan.roles.length === 0 ? 'nothing to wait for' : 'no Dask: READY once the notebook answers';
  }
  return plan.wantedWorkers === 0
    ? `wanted workers: none (READY once the scheduler answers; ${total} will join)`
    : `wanted workers: ${plan.wantedWorkers} of ${total}`;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
