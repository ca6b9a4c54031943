/**
 * The plan: what a create will launch, decided before anything is launched,
 * so `bilbo plan` shows exactly what `bilbo create` does. Which roles, how
 * many and how sized is the cluster kind's part (lambdas/domain/kinds).
 */
import profileSchema from '../../schemas/profile.schema.json' with { type: 'json' };
import type { InstanceTypeFacts, Plan, Profile, ResolvedInstance } from '../../schemas/types.generated.ts';
import { assertClusterName } from './cluster-name.ts';
import { kindForProfile } from './kinds/index.ts';
import type { InstanceTypeCatalog } from './ports.ts';

/** The longest ready_timeout a profile may ask for: what bounds a create (lambdas/domain/deadlines.ts). */
export const READY_TIMEOUT_MAX_SECONDS = profileSchema.properties.ready_timeout.maximum;

const defaults = {
  readyTimeout: profileSchema.properties.ready_timeout.default,
  idleTimeout: profileSchema.properties.idle_timeout.default,
  maxLifetime: profileSchema.properties.max_lifetime.default,
};

export interface PlanInput {
  name: string;
  profile: Profile;
  catalog: InstanceTypeCatalog;
}

export async function buildPlan({ name, profile, catalog }: PlanInput): Promise<Plan> {
  const cluster = assertClusterName(name);
  const kind = kindForProfile(profile);

  // Each instance type is looked up once, however many roles use it.
  const lookups = new Map<string | undefined, Promise<InstanceTypeFacts>>();
  const factsOf = (instance: ResolvedInstance): Promise<InstanceTypeFacts> => {
    let lookup = lookups.get(instance.ec2type);
    if (!lookup) {
      lookup = catalog.describe(instance.ec2type);
      lookups.set(instance.ec2type, lookup);
    }
    return lookup;
  };
  const { roles, totalWorkers, wantedWorkers, notes } = await kind.plan(profile, factsOf);

  const idleTimeoutSeconds = profile.idle_timeout ?? defaults.idleTimeout;
  const maxLifetimeSeconds = profile.max_lifetime ?? defaults.maxLifetime;
  const lifetimeNotes = [
    ...(idleTimeoutSeconds === 0 ? ['idle_timeout is 0: the cluster is never removed for being idle'] : []),
    ...(maxLifetimeSeconds === 0 ? ['max_lifetime is 0: the cluster runs until you destroy it'] : []),
  ];
  const catalogNotes = roles.flatMap((role) => catalog.notes(role.instance));

  return {
    cluster,
    kind: kind.name,
    roles,
    wantedWorkers,
    totalWorkers,
    readyTimeoutSeconds: profile.ready_timeout ?? defaults.readyTimeout,
    idleTimeoutSeconds,
    maxLifetimeSeconds,
    notes: [...new Set([...catalogNotes, ...notes, ...lifetimeNotes])],
    ...(profile.instance_prefix !== undefined ? { instancePrefix: profile.instance_prefix } : {}),
    ...(profile.private_command !== undefined ? { privateCommand: profile.private_command } : {}),
    ...(profile.idle_ignores_clients ? { idleIgnoresClients: true } : {}),
    ...(profile.webbrowser !== undefined ? { webbrowser: profile.webbrowser } : {}),
  };
}
