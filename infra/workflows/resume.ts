/**
 * The resume workflow: ask every machine to start, then wait as a create
 * does — every machine running (asking again for any still stopped), their
 * new addresses and URLs recorded, the probe until the cluster is ready —
 * and record READY. Every failure goes to RecordResumeFailed, which stops
 * the machines again and records PAUSED with the reason (FAILED when it
 * cannot).
 */
import { Duration } from 'aws-cdk-lib';
import {
  Condition,
  type IChainable,
  JsonPath,
  type Map as MapState,
  Succeed,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Steps } from './shapes.ts';

type Saga = (step: LambdaInvoke | MapState, failedStep: string) => void;

export function resumeDefinition(steps: Steps): IChainable {
  const saga = steps.compensation('RecordResumeFailed', 'recordResumeFailed', {
    id: 'ResumeFailed',
    error: 'ClusterResumeFailed',
  });
  const startMachines = steps.invoke('StartMachines', 'startMachines', {
    clusterId: JsonPath.stringAt('$.clusterId'),
  });
  saga(startMachines, 'start-machines');
  startMachines.next(
    untilReadyAgain(steps, saga, { sincePath: '$.requestedAt', end: new Succeed(steps.scope, 'Resumed') }),
  );
  return startMachines;
}

/**
 * The wait of a cluster whose machines were asked to start again (a resume,
 * or a pause undone): CheckRunning until every machine runs (recording their
 * addresses now), ProbeReady until ready (looking at the machines between
 * two budgets), RecordResumed, then `end`. Failures go to `saga`.
 */
export function untilReadyAgain(
  steps: Steps,
  saga: Saga,
  options: { sincePath: string; end: IChainable },
): IChainable {
  const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };
  const since = JsonPath.stringAt(options.sincePath);
  const checkRunning = steps.invoke(
    'CheckRunning',
    'checkMachines',
    { ...clusterId, want: 'running', since, starting: true },
    { path: '$.machines', fields: ['done', 'running', 'total', 'waitSeconds'] },
  );
  const probeReady = steps.invoke('ProbeReady', 'probeReady', clusterId, {
    path: '$.probe',
    fields: ['ready', 'workersJoined', 'wantedWorkers'],
  });
  const recordResumed = steps.invoke('RecordResumed', 'recordResumed', { ...clusterId, requestedAt: since });

  saga(checkRunning, 'check-running');
  saga(probeReady, 'probe-ready');
  saga(recordResumed, 'record-resumed');

  recordResumed.next(options.end);
  steps.pollLoop(probeReady, {
    choice: 'Ready?',
    done: Condition.booleanEquals('$.probe.ready', true),
    whenDone: recordResumed,
    wait: { id: 'WaitBeforeProbe', time: WaitTime.duration(Duration.seconds(1)) },
    loopTo: checkRunning,
  });
  steps.pollLoop(checkRunning, {
    choice: 'AllRunning?',
    done: Condition.booleanEquals('$.machines.done', true),
    whenDone: probeReady,
    wait: { id: 'WaitForRunning', time: WaitTime.secondsPath('$.machines.waitSeconds') },
  });
  return checkRunning;
}
