import type { SweepReport } from '../../../schemas/types.generated.ts';
import { capActions } from '../reaper/report.ts';
import { type SweepDeps, sweepClusters } from '../use-cases/sweep-clusters.ts';
import type { WorkflowInputs } from '../workflows.ts';

/** The sweep workflow's step: one sweep, its report small enough to be the execution's output. */
export async function sweep(input: WorkflowInputs['sweep'], deps: SweepDeps): Promise<SweepReport> {
  return capActions(await sweepClusters(deps, { dryRun: input.dryRun === true }));
}
