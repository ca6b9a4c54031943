/**
 * `bilbo reap`: an admin starts one sweep of the reaper now, as the sweep
 * workflow (where the reaper runs: in the VPC on AWS, with the
 * deployment's settings), and reads it back by its id until it ended.
 */
import type { Sweep, SweepReport } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, isAdmin, type PersonActor } from '../access.ts';
import { NotAdminError, SweepNotFoundError } from '../errors.ts';
import type { WorkflowStarter } from '../ports.ts';
import { WORKFLOWS } from '../workflows.ts';
import type { SweepOptions } from './sweep-clusters.ts';

export interface ReapNowDeps {
  access: AccessPolicy;
  workflows: WorkflowStarter;
  /** A fresh sweep id (the schema's pattern), sortable by its start. */
  newSweepId: () => string;
}

/** Starts one sweep for an admin (a dry run changes nothing); answers its id, RUNNING. */
export async function reapNow(actor: PersonActor, options: SweepOptions, deps: ReapNowDeps): Promise<Sweep> {
  if (!isAdmin(actor.principal, deps.access)) throw new NotAdminError('run the reaper');
  const id = deps.newSweepId();
  await deps.workflows.start('sweep', WORKFLOWS.sweep.executionName({ sweepId: id }), {
    dryRun: options.dryRun === true,
    requestedBy: actor.principal,
  });
  return { id, status: 'RUNNING' };
}

/** How the sweep goes, for an admin: its report once it succeeded, why not once it failed. */
export async function readSweep(actor: PersonActor, id: string, deps: ReapNowDeps): Promise<Sweep> {
  if (!isAdmin(actor.principal, deps.access)) throw new NotAdminError('read a sweep of the reaper');
  const execution = await deps.workflows.describe('sweep', WORKFLOWS.sweep.executionName({ sweepId: id }));
  if (!execution) throw new SweepNotFoundError(id);
  const { status, output, error } = execution;
  if (status === 'SUCCEEDED') return { id, status, report: output as SweepReport };
  return { id, status, ...(error === undefined ? {} : { error }) };
}
