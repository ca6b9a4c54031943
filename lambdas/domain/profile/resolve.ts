/**
 * A role's instance from a profile: the common `instance` overlaid by the
 * role's own. Which roles a profile asks for is its kind's business
 * (lambdas/domain/kinds).
 */
import type { InstanceSpec, ResolvedInstance } from '../../../schemas/types.generated.ts';

const SCALAR_FIELDS = [
  'ami',
  'ec2type',
  'keyname',
  'security_group',
  'vol_size',
  'ssh_user',
  'ssh_private_key',
  'init_fail',
] as const satisfies readonly (keyof InstanceSpec & keyof ResolvedInstance)[];

/** The role's instance overlaid on the common one, field by field; tags merged by key. */
export function resolveRoleInstance(
  common: InstanceSpec | undefined,
  role: InstanceSpec | undefined,
): ResolvedInstance {
  const resolved: ResolvedInstance = {
    tags: mergeTags(common?.tags ?? [], role?.tags ?? []),
    // A role's init_cmd replaces the common one: commands are a script, and merging scripts line by line is unsafe.
    init_cmd: [...(role?.init_cmd ?? common?.init_cmd ?? [])],
  };
  const scalars: Partial<ResolvedInstance> = {};
  for (const field of SCALAR_FIELDS) {
    const value = role?.[field] ?? common?.[field];
    if (value !== undefined) Object.assign(scalars, { [field]: value });
  }
  return { ...scalars, ...resolved };
}

/**
 * Common tags first in their order; a later tag with a key already seen
 * replaces that tag's value in place; new keys are appended. Keys and values
 * are kept exactly as written.
 */
export function mergeTags(
  common: readonly (readonly [string, string])[],
  role: readonly (readonly [string, string])[],
): [string, string][] {
  const merged = new Map<string, string>();
  for (const [key, value] of [...common, ...role]) merged.set(key, value);
  return [...merged].map(([key, value]): [string, string] => [key, value]);
}
