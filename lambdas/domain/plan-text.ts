import type { Plan, RolePlan } from '../../schemas/types.generated.ts';

const GIB = 1024 ** 3;

/** The plan as a person reads it, e.g. for `bilbo plan` and the create confirmation. */
export function renderPlanText(plan: Plan): string {
  const lines = [`cluster: ${plan.cluster} (${plan.kind})`];
  for (const role of plan.roles) lines.push(roleLine(role));
  const total = plan.totalWorkers ?? workerProcesses(plan);
  lines.push(
    plan.wantedWorkers === 0
      ? `wanted workers: none (READY once the scheduler answers; ${total} will join)`
      : `wanted workers: ${plan.wantedWorkers} of ${total}`,
  );
  lines.push(
    `timeouts: ready ${duration(plan.readyTimeoutSeconds)}, idle ${plan.idleTimeoutSeconds === 0 ? 'never' : duration(plan.idleTimeoutSeconds)}, max lifetime ${plan.maxLifetimeSeconds === 0 ? 'none' : duration(plan.maxLifetimeSeconds)}`,
  );
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function roleLine(role: RolePlan): string {
  const type = role.instanceType;
  const head = `${role.role.padEnd(11)}${role.count} × ${type.name} (${type.vcpus} vCPU, ${gib(type.memoryMiB * 1024 * 1024)})`;
  const details: string[] = [];
  if (role.dask) {
    const { nworkers, nthreads, memoryLimitBytes } = role.dask;
    details.push(
      `${count(nworkers, 'process', 'processes')} × ${count(nthreads, 'thread', 'threads')}, ${gib(memoryLimitBytes)} each`,
    );
  }
  if (role.notebook?.workdir) details.push(`workdir ${role.notebook.workdir}`);
  const repositories = role.notebook?.gitRepositories ?? [];
  if (repositories.length > 0) details.push(`git ${repositories.join(', ')}`);
  return details.length > 0 ? `${head} — ${details.join('; ')}` : head;
}

function workerProcesses(plan: Plan): number {
  return plan.roles
    .filter((role) => role.role === 'worker')
    .reduce((sum, role) => sum + role.count * (role.dask?.nworkers ?? 0), 0);
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** 600 → 10m, 3600 → 1h, 86400 → 24h, 5400 → 1h30m, 45 → 45s. */
export function duration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', rest ? `${rest}s` : ''].join('');
}
