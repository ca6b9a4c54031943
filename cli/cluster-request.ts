import { clusterNameFrom } from '../lambdas/domain/cluster-name.ts';
import type { CreateClusterRequest } from '../schemas/types.generated.ts';
import { type LoadedProfile, loadProfile } from './profiles.ts';

/** What `plan` and `create` share: a profile, an optional name, overrides. */
export interface ProfileRequestOptions {
  profile: string;
  cluster?: string;
  params: string[];
}

/**
 * Loads and validates the profile locally, settles the cluster's name, and
 * builds the body of POST /clusters and POST /plan.
 */
export async function buildCreateRequest(
  options: ProfileRequestOptions,
  home: string,
): Promise<{ request: CreateClusterRequest; source: LoadedProfile }> {
  const source = await loadProfile(options.profile, home);
  const name = clusterNameFrom({ explicit: options.cluster, profileFile: source.path });
  const request: CreateClusterRequest = { name, profile: source.profile, profileName: source.name };
  if (options.params.length > 0) request.overrides = [...options.params];
  return { request, source };
}
