import type { SweepReport } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, isAdmin, type PersonActor } from '../access.ts';
import { NotAdminError } from '../errors.ts';
import type { SweepOptions } from './sweep-clusters.ts';

export interface ReapNowDeps {
  access: AccessPolicy;
  /** Runs one sweep where the reaper runs (its network, its settings) and answers its report. */
  sweep(options: SweepOptions): Promise<SweepReport>;
}

/** `bilbo reap`: one sweep now, for an admin; a dry run changes nothing. */
export async function reapNow(
  actor: PersonActor,
  options: SweepOptions,
  deps: ReapNowDeps,
): Promise<SweepReport> {
  if (!isAdmin(actor.principal, deps.access)) throw new NotAdminError('run the reaper');
  return deps.sweep(options);
}
