/**
 * The reaper on AWS: an EventBridge schedule that starts the sweep
 * workflow, whose one function runs in the VPC where the readiness probe
 * does, with the deployment's settings, and may do only what a sweep does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, ContextError } from '../../infra/app.ts';
import { SCHEDULED_SWEEP } from '../../infra/constructs/reaper-schedule.ts';
import { SWEEP_TASK_TIMEOUT_SECONDS, SWEEP_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import { WORKFLOW_NAMES, type WorkflowName } from '../../lambdas/domain/workflows.ts';
import { type Synthesized, synthesize } from './synth.ts';
import {
  actionsOf,
  allStatements,
  arnText,
  functionId,
  render,
  resourcesIn,
  statementsOf,
} from './template-iam.ts';

const SWEEP = 'lambdas/handlers/tasks/sweep.ts';
const API = 'lambdas/handlers/api.ts';
const DEPLOYMENT_ID = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

/** The logical id of each workflow's state machine. */
function stateMachines(synth: Synthesized): Record<WorkflowName, string> {
  return Object.fromEntries(
    Object.entries(synth.template.findResources('AWS::StepFunctions::StateMachine')).map(([id, machine]) => [
      machine.Metadata['bilbo:workflow'],
      id,
    ]),
  ) as Record<WorkflowName, string>;
}

function sweepFunction(synth: Synthesized) {
  return synth.template.toJSON().Resources[functionId(synth.template, SWEEP)].Properties;
}

function statesStatements(synth: Synthesized, entry: string) {
  return statementsOf(synth.template, entry).filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith('states:')),
  );
}

describe('the reaper, deployed with its defaults', () => {
  let synth: Synthesized;
  let machines: Record<WorkflowName, string>;

  beforeAll(() => {
    synth = synthesize();
    machines = stateMachines(synth);
  });
  afterAll(() => synth.cleanup());

  it('starts one sweep every 5 minutes, on a schedule that needs no client', () => {
    const rules = Object.values(synth.template.findResources('AWS::Events::Rule'));

    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rules[0]!.Properties.State).toBe('ENABLED');
  });

  it('targets the sweep state machine with a scheduled, real (not dry) sweep, through a role that may start it alone', () => {
    const [rule] = Object.values(synth.template.findResources('AWS::Events::Rule'));
    const [target, ...others] = rule!.Properties.Targets;
    const roleId = render(target.RoleArn).replace(/^<(.+)\.Arn>$/, '$1');
    const role = synth.template.toJSON().Resources[roleId];
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as unknown[]).some((r) => render(r) === `<${roleId}>`),
    );

    expect(others).toEqual([]);
    expect(render(target.Arn)).toBe(`<${machines.sweep}>`);
    expect(JSON.parse(target.Input)).toEqual(SCHEDULED_SWEEP);
    expect(SCHEDULED_SWEEP).toEqual({ dryRun: false, requestedBy: 'schedule' });
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' } }),
    ]);
    expect(
      policies.flatMap((policy) =>
        policy.Properties.PolicyDocument.Statement.map((statement: { Action: string; Resource: unknown }) => [
          statement.Action,
          render(statement.Resource),
        ]),
      ),
    ).toEqual([['states:StartExecution', `<${machines.sweep}>`]]);
  });

  it('is one Lambda step that answers the report, retried on Lambda’s transient errors, within a Lambda’s 15 minutes', () => {
    const definition = JSON.parse(
      render(synth.template.toJSON().Resources[machines.sweep].Properties.DefinitionString).replace(
        /<[^>]+>/g,
        'x',
      ),
    );
    const step = definition.States[definition.StartAt];

    expect(Object.keys(definition.States)).toEqual([definition.StartAt]);
    expect(step).toMatchObject({ Type: 'Task', End: true, OutputPath: '$.Payload' });
    expect(step.Parameters['Payload.$']).toBe('$');
    expect(step.TimeoutSeconds).toBe(SWEEP_TASK_TIMEOUT_SECONDS);
    expect(step.Retry.flatMap((retry: { ErrorEquals: string[] }) => retry.ErrorEquals)).toEqual(
      expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
    );
    expect(definition.TimeoutSeconds).toBe(SWEEP_TIMEOUT_SECONDS);
    expect(sweepFunction(synth).Timeout).toBe(SWEEP_TASK_TIMEOUT_SECONDS);
    expect(SWEEP_TASK_TIMEOUT_SECONDS).toBeLessThan(15 * 60);
    // The benchmark's 10,000-cluster sweep peaked at 470 MiB.
    expect(sweepFunction(synth).MemorySize).toBe(1024);
  });

  it('runs its function in the VPC with the probe’s subnets and security group', () => {
    const probe =
      synth.template.toJSON().Resources[functionId(synth.template, 'lambdas/handlers/tasks/probe-ready.ts')]
        .Properties;

    expect(sweepFunction(synth).VpcConfig).toEqual(probe.VpcConfig);
  });

  it("gives the function the reaper's settings, the defaults when context sets none", () => {
    expect(sweepFunction(synth).Environment.Variables).toMatchObject({
      REAPER_MAX_LIFETIME_CEILING_SECONDS: String(REAPER_DEFAULTS.maxLifetimeCeilingSeconds),
      REAPER_PAUSED_MAX_AGE_SECONDS: String(REAPER_DEFAULTS.pausedMaxAgeSeconds),
      REAPER_STUCK_GRACE_SECONDS: String(REAPER_DEFAULTS.stuckGraceSeconds),
      REAPER_ORPHAN_GRACE_SECONDS: String(REAPER_DEFAULTS.orphanGraceSeconds),
      REAPER_UNKNOWN_LOOKS_BEFORE_FAILED: String(REAPER_DEFAULTS.unknownLooksBeforeFailed),
      PROBE_NETWORK: 'private',
    });
  });

  it('lets the sweep start the destroy and pause workflows alone, and look at the cluster workflows’ executions', () => {
    const granted = statesStatements(synth, SWEEP).map((statement) => [
      actionsOf(statement),
      resourcesIn(statement),
    ]);
    const clusterWorkflows = WORKFLOW_NAMES.filter((name) => name !== 'sweep');

    expect(granted).toEqual(
      expect.arrayContaining([
        [['states:StartExecution'], [`<${machines.destroy}>`]],
        [['states:StartExecution'], [`<${machines.pause}>`]],
      ]),
    );
    expect(granted).toHaveLength(2 + clusterWorkflows.length);
    for (const workflow of clusterWorkflows) {
      expect(granted).toContainEqual([
        ['states:DescribeExecution'],
        [arnText('states', `execution:<${machines[workflow]}.Name>:*`)],
      ]);
    }
  });

  it('lets the API start any workflow, and read only the sweeps’ executions', () => {
    const describing = statesStatements(synth, API).filter((statement) =>
      actionsOf(statement).includes('states:DescribeExecution'),
    );

    expect(describing.map(resourcesIn)).toEqual([
      [arnText('states', `execution:<${machines.sweep}.Name>:*`)],
    ]);
  });

  it('deletes only volumes carrying the deployment’s bilbo:managed tag', () => {
    const deleting = allStatements(synth.template).filter((statement) =>
      actionsOf(statement).includes('ec2:DeleteVolume'),
    );

    expect(deleting).toEqual(withAction(statementsOf(synth.template, SWEEP), 'ec2:DeleteVolume'));
    expect(
      deleting.map((statement) => [actionsOf(statement), resourcesIn(statement), statement.Condition]),
    ).toEqual([
      [
        ['ec2:DeleteVolume'],
        [arnText('ec2', 'volume/*')],
        { StringEquals: { 'ec2:ResourceTag/bilbo:managed': DEPLOYMENT_ID } },
      ],
    ]);
  });

  it('names every action of the sweep in full, and grants "*" only to Describe* and command reads', () => {
    const statements = statementsOf(synth.template, SWEEP);

    expect(statements.flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
    for (const statement of statements.filter((s) => resourcesIn(s).includes('*'))) {
      for (const action of actionsOf(statement)) {
        expect(action).toMatch(
          /^(ec2:Describe\w+|logs:\w+|xray:\w+|ssm:(GetCommandInvocation|ListCommands|CancelCommand))$/,
        );
      }
    }
  });
});

function withAction(statements: ReturnType<typeof statementsOf>, action: string) {
  return statements.filter((statement) => actionsOf(statement).includes(action));
}

describe('the reaper, configured through context', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({
      context: {
        'bilbo:reapEvery': '1',
        'bilbo:maxLifetimeCeiling': '86400',
        'bilbo:pausedMaxAge': '604800',
        'bilbo:orphanGrace': '1800',
        'bilbo:unknownLooksBeforeFailed': '5',
      },
    });
  });
  afterAll(() => synth.cleanup());

  it('sweeps at the rate and with the settings the context gives', () => {
    const [rule] = Object.values(synth.template.findResources('AWS::Events::Rule'));

    expect(rule!.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(sweepFunction(synth).Environment.Variables).toMatchObject({
      REAPER_MAX_LIFETIME_CEILING_SECONDS: '86400',
      REAPER_PAUSED_MAX_AGE_SECONDS: '604800',
      REAPER_STUCK_GRACE_SECONDS: String(REAPER_DEFAULTS.stuckGraceSeconds),
      REAPER_ORPHAN_GRACE_SECONDS: '1800',
      REAPER_UNKNOWN_LOOKS_BEFORE_FAILED: '5',
    });
  });
});

describe('the reaper, with context it cannot use', () => {
  it.each([
    [
      'a period of no minutes',
      { 'bilbo:reapEvery': '0' },
      /bilbo:reapEvery: "0" is not a whole number of minutes/,
    ],
    ['a period in another unit', { 'bilbo:reapEvery': '5m' }, /bilbo:reapEvery/],
    ['an orphan grace under a minute', { 'bilbo:orphanGrace': '10' }, /bilbo:orphanGrace: "10" .* from 60/],
    ['a negative paused_max_age', { 'bilbo:pausedMaxAge': '-1' }, /bilbo:pausedMaxAge/],
  ])('refuses %s at synth, naming the key', (_what, context, message) => {
    expect(() => buildApp({ skipBundling: true, context })).toThrow(ContextError);
    expect(() => buildApp({ skipBundling: true, context })).toThrow(message);
  });
});
