import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidExecutionInput,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflowStarter } from '../../../lambdas/adapters/sfn/workflow-starter.ts';

const ARNS = {
  create: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-CreateCluster',
  destroy: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-DestroyCluster',
  restart: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-RestartCluster',
  pause: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-PauseCluster',
  resume: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-ResumeCluster',
  sweep: 'arn:aws:states:eu-west-1:123456789012:stateMachine:bilbo-SweepClusters',
};
const SWEEP_EXECUTION =
  'arn:aws:states:eu-west-1:123456789012:execution:bilbo-SweepClusters:sweep-0190f3a2b4c5d6e7';
const CREATE_EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:bilbo-CreateCluster:c-1-create';

describe('SfnWorkflowStarter', () => {
  const sfn = mockClient(SFNClient);
  const starter = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), ARNS);

  beforeEach(() => {
    sfn.reset();
  });

  it('starts the workflow’s state machine with the execution name and the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: CREATE_EXECUTION, startDate: new Date() });

    const arn = await starter.start('create', 'c-1-create', {
      clusterId: 'c-1',
      primaryRole: 'scheduler',
      memberRoles: ['worker'],
    });

    expect(arn).toBe(CREATE_EXECUTION);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: ARNS.create,
      name: 'c-1-create',
      input: '{"clusterId":"c-1","primaryRole":"scheduler","memberRoles":["worker"]}',
    });
  });

  it('starts the destroy state machine for the destroy workflow', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });

    await starter.start('destroy', 'c-1-destroy-v3', {
      clusterId: 'c-1',
      requestedAt: '2026-01-01T00:00:00.000Z',
    });

    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(ARNS.destroy);
  });

  it('answers the derived execution ARN when the execution already exists (a retried request)', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(
        new ExecutionAlreadyExists({ message: 'Execution Already Exists: c-1-create', $metadata: {} }),
      );

    await expect(
      starter.start('create', 'c-1-create', { clusterId: 'c-1', primaryRole: 'scheduler', memberRoles: [] }),
    ).resolves.toBe(CREATE_EXECUTION);
  });

  it('passes any other error on', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(
        new InvalidExecutionInput({ message: 'Invalid State Machine Execution Input', $metadata: {} }),
      );

    await expect(
      starter.start('create', 'c-1-create', { clusterId: 'c-1', primaryRole: 'scheduler', memberRoles: [] }),
    ).rejects.toThrow(InvalidExecutionInput);
  });

  it('passes a throttled call on, for the API to answer', async () => {
    sfn.on(StartExecutionCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: {},
      }),
    );

    await expect(
      starter.start('destroy', 'c-1-destroy-v2', {
        clusterId: 'c-1',
        requestedAt: '2026-01-01T00:00:00.000Z',
      }),
    ).rejects.toThrow('Rate exceeded');
  });

  describe('describe', () => {
    it('reads the execution of the workflow by its name, and its output once it succeeded', async () => {
      sfn
        .on(DescribeExecutionCommand)
        .resolves({ status: 'SUCCEEDED', output: '{"checked":3}', executionArn: SWEEP_EXECUTION } as never);

      expect(await starter.describe('sweep', 'sweep-0190f3a2b4c5d6e7')).toEqual({
        status: 'SUCCEEDED',
        output: { checked: 3 },
      });
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({
        executionArn: SWEEP_EXECUTION,
      });
    });

    it('answers RUNNING while it runs or is redriven, and why once it failed', async () => {
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce({ status: 'RUNNING' } as never)
        .resolvesOnce({ status: 'PENDING_REDRIVE' } as never)
        .resolvesOnce({ status: 'FAILED', error: 'Lambda.Unknown', cause: 'timed out' } as never);

      expect(await starter.describe('sweep', 's')).toEqual({ status: 'RUNNING' });
      expect(await starter.describe('sweep', 's')).toEqual({ status: 'RUNNING' });
      expect(await starter.describe('sweep', 's')).toEqual({
        status: 'FAILED',
        error: 'Lambda.Unknown: timed out',
      });
    });

    it('answers undefined for an execution Step Functions does not know', async () => {
      sfn
        .on(DescribeExecutionCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

      expect(await starter.describe('sweep', 'sweep-00000000000000ff')).toBeUndefined();
    });
  });

  it('refuses a workflow whose state machine ARN the function was not given', async () => {
    const sweepOnly = new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), {
      destroy: ARNS.destroy,
    });

    await expect(
      sweepOnly.start('pause', 'c-1-pause-v2', { clusterId: 'c-1', requestedAt: 'x' }),
    ).rejects.toThrow("this function was not given the pause state machine's ARN");
  });
});
