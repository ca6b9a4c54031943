/**
 * The create workflow: launch the kind's primary role,
 * then the other roles with its address, wait until every machine runs, probe until the cluster is ready
 * (looking at the machines between probe budgets), run the profile's init commands, record READY. Every
 * failure goes to RollbackCreate, which terminates everything the cluster
 * launched and records FAILED.
 */
import { Duration } from 'aws-cdk-lib';
import { Condition, type IChainable, JsonPath, Succeed, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import type { Steps } from './shapes.ts';

export function createDefinition(steps: Steps): IChainable {
  const { scope } = steps;
  const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };

  const saga = steps.compensation('RollbackCreate', 'rollbackCreate', {
    id: 'CreateFailed',
    error: 'ClusterCreateFailed',
  });

  const launchPrimary = steps.invoke(
    'LaunchPrimary',
    'launchRole',
    { ...clusterId, role: JsonPath.stringAt('$.primaryRole') },
    { path: '$.primary', fields: ['primaryAddress', 'machineIds'] },
  );
  const launchMember = steps.invoke('LaunchMember', 'launchRole', {
    ...clusterId,
    role: JsonPath.stringAt('$.member.item'),
    primaryAddress: JsonPath.stringAt('$.primary.primaryAddress'),
  });
  const checkRunning = steps.invoke(
    'CheckRunning',
    'checkMachines',
    { ...clusterId, want: 'running' },
    { path: '$.machines', fields: ['done', 'running', 'total', 'waitSeconds'] },
  );
  const probeReady = steps.invoke('ProbeReady', 'probeReady', clusterId, {
    path: '$.probe',
    fields: ['ready', 'workersJoined', 'wantedWorkers'],
  });
  // The first look starts the init commands; later ones carry on from the one still running.
  const initResult = { path: '$.init', fields: ['done', 'position', 'waitSeconds'] };
  const startInit = steps.invoke('StartInit', 'runInit', clusterId, initResult);
  const runInit = steps.invoke(
    'RunInit',
    'runInit',
    { ...clusterId, position: JsonPath.numberAt('$.init.position') },
    initResult,
  );
  const recordReady = steps.invoke('RecordReady', 'recordReady', clusterId);

  // Named after the role, as its progress events are (`launch-<role>`).
  saga(launchPrimary, JsonPath.format('launch-{}', JsonPath.stringAt('$.primaryRole')));
  saga(launchMember, 'launch-members');
  saga(checkRunning, 'check-running');
  saga(probeReady, 'probe-ready');
  saga(startInit, 'init');
  saga(runInit, 'init');
  saga(recordReady, 'record-ready');

  recordReady.next(new Succeed(scope, 'Created'));
  const initDone = steps.pollLoop(runInit, {
    choice: 'InitDone?',
    done: Condition.booleanEquals('$.init.done', true),
    whenDone: recordReady,
    wait: { id: 'WaitForInit', time: WaitTime.secondsPath('$.init.waitSeconds') },
  });
  startInit.next(initDone);
  // Between two probe budgets, look at the machines again: a lost one fails
  // the create at once, and the probe itself needs no EC2 access in the VPC.
  steps.pollLoop(probeReady, {
    choice: 'Ready?',
    done: Condition.booleanEquals('$.probe.ready', true),
    whenDone: startInit,
    wait: { id: 'WaitBeforeProbe', time: WaitTime.duration(Duration.seconds(1)) },
    loopTo: checkRunning,
  });
  steps.pollLoop(checkRunning, {
    choice: 'AllRunning?',
    done: Condition.booleanEquals('$.machines.done', true),
    whenDone: probeReady,
    // The check says how long: longer as the wait drags on, never past the deadline.
    wait: { id: 'WaitForRunning', time: WaitTime.secondsPath('$.machines.waitSeconds') },
  });
  launchPrimary.next(
    steps.eachInTurn(
      'LaunchMembers',
      { itemsPath: '$.memberRoles', turnPath: '$.member' },
      (next) => launchMember.next(next),
      checkRunning,
    ),
  );
  return launchPrimary;
}
