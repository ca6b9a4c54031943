/**
 * The pause workflow: ask every machine to stop, look until every one has
 * (asking again for any still running), and record PAUSED. Every failure
 * goes to RecordPauseFailed, which starts again what was stopped and
 * records RESUMING; the workflow then waits as a resume does, back to READY
 * (or, failing that, stopped again: PAUSED, or FAILED). A pause that did
 * not happen ends the execution failed, whatever the cluster came back to.
 */
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JsonPath,
  Succeed,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { untilReadyAgain } from './resume.ts';
import { COMPENSATION_RETRY, FAILED_STEP_PATH, type Steps } from './shapes.ts';

export function pauseDefinition(steps: Steps): IChainable {
  const { scope } = steps;
  const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };
  const pause = { ...clusterId, requestedAt: JsonPath.stringAt('$.requestedAt') };

  const notPaused = new Fail(scope, 'PauseFailed', {
    error: 'ClusterPauseFailed',
    causePath: '$.error.Cause',
  });
  const backSaga = steps.compensation('RecordResumeFailed', 'recordResumeFailed', {
    id: 'PauseUndoFailed',
    error: 'ClusterPauseFailed',
  });
  const compensate = steps.invoke(
    'RecordPauseFailed',
    'recordPauseFailed',
    { ...clusterId, failedStep: JsonPath.stringAt(FAILED_STEP_PATH), error: JsonPath.objectAt('$.error') },
    { path: '$.undo', fields: ['state', 'since'] },
  );
  compensate.addRetry(COMPENSATION_RETRY);
  compensate.next(
    new Choice(scope, 'StartingAgain?')
      .when(
        Condition.stringEquals('$.undo.state', 'RESUMING'),
        untilReadyAgain(steps, backSaga, { sincePath: '$.undo.since', end: notPaused }),
      )
      .otherwise(notPaused),
  );
  const saga = steps.compensatedBy(compensate);

  const stopMachines = steps.invoke('StopMachines', 'stopMachines', clusterId);
  const checkStopped = steps.invoke(
    'CheckStopped',
    'checkMachines',
    { ...clusterId, want: 'stopped', since: JsonPath.stringAt('$.requestedAt') },
    { path: '$.machines', fields: ['done', 'running', 'total', 'waitSeconds'] },
  );
  const recordPaused = steps.invoke('RecordPaused', 'recordPaused', pause);

  saga(stopMachines, 'stop-machines');
  saga(checkStopped, 'check-stopped');
  saga(recordPaused, 'record-paused');

  stopMachines.next(checkStopped);
  steps.pollLoop(checkStopped, {
    choice: 'AllStopped?',
    done: Condition.booleanEquals('$.machines.done', true),
    whenDone: recordPaused,
    wait: { id: 'WaitForStopped', time: WaitTime.secondsPath('$.machines.waitSeconds') },
  });
  recordPaused.next(new Succeed(scope, 'Paused'));
  return stopMachines;
}
