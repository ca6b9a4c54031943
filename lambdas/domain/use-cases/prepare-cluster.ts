import type { CreateClusterRequest, Plan, Profile } from '../../../schemas/types.generated.ts';
import { validateProfile } from '../../../schemas/validate.ts';
import { assertClusterName } from '../cluster-name.ts';
import { ValidationError } from '../errors.ts';
import { buildPlan } from '../plan.ts';
import type { InstanceTypeCatalog, LaunchPreflight } from '../ports.ts';
import { applyOverrides } from '../profile/overrides.ts';

export interface PreparedCluster {
  name: string;
  profile: Profile;
  plan: Plan;
}

export interface PrepareClusterDeps {
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
}

/**
 * The shared first half of `plan` and `create`: apply the overrides, check
 * the result against the profile schema (errors name `profile.<path>`),
 * plan it with the provider's instance-type facts, and let the provider
 * check what it can before anything is recorded or launched.
 */
export async function prepareCluster(
  request: CreateClusterRequest,
  { catalog, preflight }: PrepareClusterDeps,
): Promise<PreparedCluster> {
  const name = assertClusterName(request.name);
  const overridden = applyOverrides(request.profile, request.overrides ?? []);
  const profile = validateProfile(overridden, { prefix: 'profile' });
  const plan = await buildPlan({ name, profile, catalog }).catch((error: unknown) => {
    throw inRequest(error);
  });
  await preflight.check(plan, profile);
  return { name, profile, plan };
}

/** Planning names profile fields (`ray`); in a request they live under `profile`. */
function inRequest(error: unknown): unknown {
  if (!(error instanceof ValidationError) || error.field === undefined) return error;
  return new ValidationError(error.message, { field: `profile.${error.field}`, cause: error });
}
