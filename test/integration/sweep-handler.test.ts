/**
 * The sweep's Lambda entry as the stack deploys it: built from the
 * deployment's variables over the real table (DynamoDB Local) and an EC2
 * that holds none of the deployment's machines or volumes (every EC2,
 * SSM and Step Functions client mocked: nothing leaves the machine), it
 * answers the sweep's report and leaves one summary line and, for a sweep
 * that acted, its EMF metrics on stdout.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import type { SweepReport } from '../../schemas/types.generated.ts';
import { lambdaContext } from '../support/api-events.ts';
import { makeTestStore } from '../support/dynamodb.ts';
import { REPO_ROOT } from '../support/lambda-bundles.ts';

type SweepHandler = (input: unknown, context: unknown) => Promise<SweepReport>;

const ARN = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
let handler: SweepHandler;
const saved = { ...process.env };

beforeAll(async () => {
  const { tableName } = await makeTestStore();
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    TABLE_NAME: tableName,
    CLUSTER_SUBNET_IDS: 'subnet-0a',
    CLUSTER_SECURITY_GROUP_ID: 'sg-0a1b',
    INSTANCE_PROFILE_ARN: 'arn:aws:iam::123456789012:instance-profile/bilbo',
    DEPLOYMENT_ID: '5e0f4a70-9d2b-11f1-8c3e-06a1b2c3d4e5',
    SECRETS_PREFIX: '/bilbo/clusters',
    PROBE_NETWORK: 'private',
    DESTROY_STATE_MACHINE_ARN: ARN('destroy'),
    PAUSE_STATE_MACHINE_ARN: ARN('pause'),
    REAPER_ORPHAN_GRACE_SECONDS: String(REAPER_DEFAULTS.orphanGraceSeconds),
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const entry = pathToFileURL(join(REPO_ROOT, 'lambdas/handlers/tasks/sweep.ts')).href;
  handler = ((await import(entry)) as { handler: SweepHandler }).handler;
});

afterAll(() => {
  ec2.restore();
  ssm.restore();
  sfn.restore();
  process.env = saved;
});

/** Runs the handler, with every line it writes to stdout parsed. */
async function sweepWithOutput(
  input: unknown,
): Promise<{ report: SweepReport; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // Not a log line of the handler's.
      }
    }
    return true;
  });
  try {
    return { report: await handler(input, lambdaContext()), lines };
  } finally {
    write.mockRestore();
  }
}

describe('the sweep Lambda', () => {
  it('sweeps the deployment and answers the report, with one summary line and its metrics', async () => {
    const { report, lines } = await sweepWithOutput({ dryRun: false, requestedBy: 'schedule' });

    expect(report).toMatchObject({ dryRun: false, checked: 0, destroyed: 0, errors: 0, actions: [] });
    // The orphan pass looked for the deployment's machines and volumes.
    expect(ec2.commandCalls(DescribeInstancesCommand).length).toBeGreaterThan(0);
    expect(ec2.commandCalls(DescribeVolumesCommand).length).toBeGreaterThan(0);
    expect([...ssm.calls(), ...sfn.calls()]).toEqual([]);
    const summaries = lines.filter((line) => line.message === 'sweep summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ step: 'sweep', sweep: { checked: 0, requestedBy: 'schedule' } });
    const metrics = lines.filter((line) => '_aws' in line);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({
      service: 'reaper',
      deployment: '5e0f4a70-9d2b-11f1-8c3e-06a1b2c3d4e5',
      checked: 0,
      orphansRemoved: 0,
    });
  });

  it('changes nothing and publishes no metrics on a dry run', async () => {
    const { report, lines } = await sweepWithOutput({ dryRun: true, requestedBy: 'arn:aws:iam::1:user/a' });

    expect(report.dryRun).toBe(true);
    expect(lines.filter((line) => '_aws' in line)).toEqual([]);
    expect(lines.filter((line) => line.message === 'sweep summary')).toHaveLength(1);
  });
});
