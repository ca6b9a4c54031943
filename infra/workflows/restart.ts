/**
 * The restart workflow: restart each role's services in turn (the kind's
 * order, in the input), looking until each role's restart is done, then
 * wait as a create does — the machines running, the probe until the
 * cluster is ready — and record READY. Every failure goes to
 * RecordRestartFailed, which looks once more: READY when the services
 * answer after all, else FAILED with the step and the reason.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JsonPath,
  Succeed,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { COMPENSATION_RETRY, FAILED_STEP_PATH, type Steps } from './shapes.ts';

export function restartDefinition(steps: Steps): IChainable {
  const { scope } = steps;
  const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };
  const restart = { ...clusterId, requestedAt: JsonPath.stringAt('$.requestedAt') };

  const compensate = steps.invoke(
    'RecordRestartFailed',
    'recordRestartFailed',
    { ...clusterId, failedStep: JsonPath.stringAt(FAILED_STEP_PATH), error: JsonPath.objectAt('$.error') },
    { path: '$.outcome', fields: ['state'] },
  );
  compensate.addRetry(COMPENSATION_RETRY);
  compensate.next(
    new Choice(scope, 'BackAfterAll?')
      .when(Condition.stringEquals('$.outcome.state', 'READY'), new Succeed(scope, 'ServicesBack'))
      .otherwise(
        new Fail(scope, 'RestartFailed', { error: 'ClusterRestartFailed', causePath: '$.error.Cause' }),
      ),
  );
  const saga = steps.compensatedBy(compensate);

  const item = { ...restart, role: JsonPath.stringAt('$.turn.item') };
  const restartRole = steps.invoke('RestartRole', 'restartRole', item, {
    path: '$.restart',
    fields: ['ticketId'],
  });
  const checkRestart = steps.invoke(
    'CheckRestart',
    'checkRestart',
    { ...item, ticketId: JsonPath.stringAt('$.restart.ticketId') },
    { path: '$.check', fields: ['done', 'waitSeconds'] },
  );
  restartRole.next(checkRestart);

  const checkRunning = steps.invoke(
    'CheckRunning',
    'checkMachines',
    { ...clusterId, want: 'running', since: JsonPath.stringAt('$.requestedAt') },
    { path: '$.machines', fields: ['done', 'running', 'total', 'waitSeconds'] },
  );
  const probeReady = steps.invoke('ProbeReady', 'probeReady', clusterId, {
    path: '$.probe',
    fields: ['ready', 'workersJoined', 'wantedWorkers'],
  });
  const recordRestarted = steps.invoke('RecordRestarted', 'recordRestarted', restart);

  saga(restartRole, 'restart-services');
  saga(checkRestart, 'restart-services');
  saga(checkRunning, 'check-running');
  saga(probeReady, 'probe-ready');
  saga(recordRestarted, 'record-restarted');

  recordRestarted.next(new Succeed(scope, 'Restarted'));
  steps.pollLoop(probeReady, {
    choice: 'Ready?',
    done: Condition.booleanEquals('$.probe.ready', true),
    whenDone: recordRestarted,
    wait: { id: 'WaitBeforeProbe', time: WaitTime.duration(Duration.seconds(1)) },
    loopTo: checkRunning,
  });
  steps.pollLoop(checkRunning, {
    choice: 'AllRunning?',
    done: Condition.booleanEquals('$.machines.done', true),
    whenDone: probeReady,
    wait: { id: 'WaitForRunning', time: WaitTime.secondsPath('$.machines.waitSeconds') },
  });
  return steps.eachInTurn(
    'RestartRoles',
    { itemsPath: '$.roles', turnPath: '$.turn' },
    (next) => {
      steps.pollLoop(checkRestart, {
        choice: 'RoleRestarted?',
        done: Condition.booleanEquals('$.check.done', true),
        whenDone: next,
        wait: { id: 'WaitForRestart', time: WaitTime.secondsPath('$.check.waitSeconds') },
      });
      return restartRole;
    },
    checkRunning,
  );
}
