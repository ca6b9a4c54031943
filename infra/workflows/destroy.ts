/**
 * The destroy workflow: terminate every machine carrying the cluster's
 * tag, look until none is left, record DESTROYED. Any failure records
 * FAILED with the step, from which destroying again retries.
 */
import { Condition, type IChainable, JsonPath, Succeed, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import { COMPENSATION_RETRY, type Steps } from './shapes.ts';

export function destroyDefinition(steps: Steps): IChainable {
  const { scope } = steps;
  const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };

  const saga = steps.compensation('RecordDestroyFailed', 'recordDestroyFailed', {
    id: 'DestroyFailed',
    error: 'ClusterDestroyFailed',
  });

  const terminate = steps.invoke('TerminateMachines', 'terminateMachines', clusterId);
  const checkTerminated = steps.invoke(
    'CheckTerminated',
    'checkMachines',
    { ...clusterId, want: 'terminated', since: JsonPath.stringAt('$.requestedAt') },
    { path: '$.machines', fields: ['done', 'running', 'total', 'waitSeconds'] },
  );
  const recordDestroyed = steps.invoke('RecordDestroyed', 'recordDestroyed', clusterId);
  terminate.addRetry(COMPENSATION_RETRY);
  checkTerminated.addRetry(COMPENSATION_RETRY);

  saga(terminate, 'terminate-machines');
  saga(checkTerminated, 'check-terminated');
  saga(recordDestroyed, 'record-destroyed');

  steps.pollLoop(checkTerminated, {
    choice: 'AllTerminated?',
    done: Condition.booleanEquals('$.machines.done', true),
    whenDone: recordDestroyed.next(new Succeed(scope, 'Destroyed')),
    // The check says how long: longer as the wait drags on, never past the deadline.
    wait: { id: 'WaitForTermination', time: WaitTime.secondsPath('$.machines.waitSeconds') },
  });
  terminate.next(checkTerminated);
  return terminate;
}
