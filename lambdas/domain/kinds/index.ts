/**
 * The kind registry: every cluster kind bilbo runs. Ray is planned (the
 * original bilbo's profile schema already reserves a `ray` section): it will
 * be a folder next to dask/ and an entry here.
 */
import type { Plan, Profile } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../errors.ts';
import { type DaskBootstrap, daskKind } from './dask/index.ts';
import type { ClusterKind, KindName, KindPort } from './kind.ts';

/** What a role's machines start with, for whichever kind the cluster is. */
export type KindBootstrap = DaskBootstrap;

export const KINDS: Readonly<Record<KindName, ClusterKind<KindBootstrap>>> = { dask: daskKind };

export function kindOf(name: Plan['kind']): ClusterKind<KindBootstrap> {
  const kind = KINDS[name];
  if (!kind) throw new Error(`no cluster kind named ${name}`);
  return kind;
}

/** The kind a profile asks for: its `dask` section, or none (the original bilbo's default). */
export function kindForProfile(profile: Profile): ClusterKind<KindBootstrap> {
  if (profile.ray !== undefined) {
    throw new ValidationError('ray clusters are not supported yet: remove the "ray" section and use "dask"', {
      field: 'ray',
    });
  }
  return daskKind;
}

/** Every port of every kind, once each: what a cluster's security group may open. */
export function allKindPorts(): KindPort[] {
  const ports = new Map<number, KindPort>();
  for (const kind of Object.values(KINDS)) {
    for (const port of Object.values(kind.ports)) ports.set(port.number, port);
  }
  return [...ports.values()];
}

/** bilbo's machine image runs every kind's services as one account (infra/ami/setup.sh): commands run as it. */
export const IMAGE_SERVICE_ACCOUNT = KINDS.dask.serviceAccount;
