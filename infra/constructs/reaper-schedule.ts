import type { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowInputs } from '../../lambdas/domain/workflows.ts';

export interface ReaperScheduleProps {
  /** The sweep workflow's state machine: each tick starts one execution. */
  readonly sweep: IStateMachine;
  /** How often: whole minutes (EventBridge's rate). */
  readonly every: Duration;
}

/** How a scheduled sweep names who asked for it. */
export const SCHEDULED_SWEEP: WorkflowInputs['sweep'] = { dryRun: false, requestedBy: 'schedule' };

/**
 * The reaper's schedule: an EventBridge rule that starts one sweep every
 * period, independent of any client. Two sweeps at once are safe (each
 * action is a conditional write), so a slow one needs no lock.
 */
export class ReaperSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ReaperScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: `bilbo: one sweep of the reaper every ${props.every.toHumanString()}`,
      schedule: Schedule.rate(props.every),
      targets: [new SfnStateMachine(props.sweep, { input: RuleTargetInput.fromObject(SCHEDULED_SWEEP) })],
    });
  }
}
