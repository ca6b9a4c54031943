import { escapeControlCharacters } from '../../schemas/printable.ts';
import type { Plan, RolePlan } from '../../schemas/types.generated.ts';
import { initFailureOf } from './commands/init-commands.ts';
import { type KindBootstrap, kindOf } from './kinds/index.ts';
import type { ClusterKind } from './kinds/kind.ts';
import { machineName } from './machines.ts';

const GIB = 1024 ** 3;

/** What `bilbo plan` says of a profile that asks for no instance. */
export const NOTHING_TO_DO = 'Nothing to do.';

/** The plan as a person reads it, e.g. for `bilbo plan` and the create confirmation. */
export function renderPlanText(plan: Plan): string {
  if (plan.roles.length === 0) return `${NOTHING_TO_DO}\n`;
  const kind = kindOf(plan.kind);
  const lines = [`cluster: ${plan.cluster} (${plan.kind})`];
  if (plan.instancePrefix) lines.push(`instance prefix: ${shown(plan.instancePrefix)}`);
  for (const role of plan.roles) {
    lines.push(roleLine(role, kind), namesAndTagsLine(plan, role), ...initLines(role));
  }
  lines.push(kind.describeReadiness(plan));
  lines.push(
    `timeouts: ready ${duration(plan.readyTimeoutSeconds)}, idle ${plan.idleTimeoutSeconds === 0 ? 'never' : duration(plan.idleTimeoutSeconds)}, max lifetime ${plan.maxLifetimeSeconds === 0 ? 'none' : duration(plan.maxLifetimeSeconds)}`,
  );
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function roleLine(role: RolePlan, kind: Pick<ClusterKind<KindBootstrap>, 'describeRole'>): string {
  const type = role.instanceType;
  const head = `${role.role.padEnd(11)}${role.count} × ${type.name} (${type.vcpus} vCPU, ${gib(type.memoryMiB * 1024 * 1024)})`;
  const details = kind.describeRole(role);
  return details.length > 0 ? `${head} — ${details.join('; ')}` : head;
}

const INDENT = ' '.repeat(11);

/** The names the role's instances get, and the tags they carry besides bilbo's own. */
function namesAndTagsLine(plan: Plan, role: RolePlan): string {
  const parts = {
    clusterName: plan.cluster,
    role: role.role,
    ...(plan.instancePrefix ? { instancePrefix: plan.instancePrefix } : {}),
  };
  const names =
    role.count <= 1
      ? `name ${machineName(parts, 0)}`
      : `names ${machineName(parts, 0)} … ${machineName(parts, role.count - 1)}`;
  const tags = role.instance.tags.map(([key, value]) => `${shown(key)}=${shown(value)}`);
  return `${INDENT}${names}; ${tags.length > 0 ? `tags ${tags.join(', ')}` : 'tags none'}`;
}

/** The role's init commands, in the order they run once its services answer, and what a failing one does. */
function initLines(role: RolePlan): string[] {
  const commands = role.instance.init_cmd;
  if (commands.length === 0) return [];
  const failure = initFailureOf(role.instance) === 'fail' ? 'fails the create' : 'is a warning';
  return [
    `${INDENT}init_cmd, once at create (a failing command ${failure}):`,
    ...commands.map((command, i) => `${INDENT}  ${i + 1}. ${escapeControlCharacters(command)}`),
  ];
}

/** A key, value or prefix as it is when plain, quoted when spaces or punctuation would blur it. */
function shown(text: string): string {
  return /^[\w.:/@+-]+$/.test(text) ? text : escapeControlCharacters(JSON.stringify(text));
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
