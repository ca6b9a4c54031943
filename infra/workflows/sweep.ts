/**
 * The reaper's sweep: one Lambda step that looks at every live cluster and
 * acts on what it sees (lambdas/domain/use-cases/sweep-clusters.ts); the
 * workflow's output is the sweep's report. The schedule
 * (infra/constructs/reaper-schedule.ts) and `bilbo reap` start it. Nothing
 * compensates: every action is a conditional write the next sweep can
 * finish, so a failed sweep leaves nothing half done that it must undo.
 */
import { Duration } from 'aws-cdk-lib';
import type { IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import type { Steps } from './shapes.ts';

/** Lambda throttled the invocation: the sweep is started again after a while (the service errors are retried by every step). */
export const SWEEP_THROTTLE_RETRY = {
  errors: ['Lambda.TooManyRequestsException'],
  maxAttempts: 3,
  interval: Duration.seconds(10),
  backoffRate: 2,
};

export function sweepDefinition(steps: Steps): IChainable {
  const sweep = steps.answer('Sweep', 'sweep');
  sweep.addRetry(SWEEP_THROTTLE_RETRY);
  return sweep;
}
