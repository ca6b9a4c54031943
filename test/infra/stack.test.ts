import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { type AslDefinition, type AslState, extractWorkflows } from '../../infra/asl.ts';
import {
  BILLING_MODE,
  GLOBAL_INDEXES,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../lambdas/adapters/dynamodb/table-design.ts';
import {
  DESTROY_TIMEOUT_SECONDS,
  STOP_TIMEOUT_SECONDS,
  SWEEP_TIMEOUT_SECONDS,
} from '../../lambdas/domain/deadlines.ts';
import { READY_TIMEOUT_MAX_SECONDS } from '../../lambdas/domain/plan.ts';
import commonSchema from '../../schemas/api/common.schema.json' with { type: 'json' };
import { type Synthesized, synthesize } from './synth.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

describe('BilboStack', () => {
  let synth: Synthesized;
  let resources: Resources;

  beforeAll(() => {
    synth = synthesize();
    resources = synth.template.toJSON().Resources as Resources;
  });
  afterAll(() => synth.cleanup());

  describe('the API', () => {
    it('requires AWS_IAM authorization on every method', () => {
      synth.template.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
    });

    it('serves exactly the cluster, command, plan and reap routes, each through the api Lambda proxy', () => {
      expect(routes(resources).sort()).toEqual(
        [
          'DELETE /clusters/{name}',
          'GET /clusters',
          'GET /clusters/{name}',
          'GET /clusters/{name}/events',
          'GET /clusters/{name}/notebook',
          'POST /clusters',
          'POST /clusters/{name}/restart',
          'POST /clusters/{name}/pause',
          'POST /clusters/{name}/resume',
          'POST /plan',
          'POST /clusters/{name}/commands',
          'GET /clusters/{name}/commands',
          'GET /clusters/{name}/commands/{id}',
          'DELETE /clusters/{name}/commands/{id}',
          'POST /reap',
          'GET /reap/{id}',
        ].sort(),
      );
      synth.template.allResourcesProperties('AWS::ApiGateway::Method', {
        Integration: Match.objectLike({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' }),
      });
    });

    it("gives the api function time for an events request's longest wait, within API Gateway's 29 s", () => {
      const longestWaitSeconds = commonSchema.definitions.eventsWait.maximum;
      const api = Object.values(resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).includes('HTTP API'),
      );
      const timeout = api?.Properties?.Timeout as number;

      expect(timeout).toBeGreaterThan(longestWaitSeconds + 2);
      expect(timeout).toBeLessThan(29);
    });

    it('throttles the stage and writes access logs', () => {
      synth.template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
        MethodSettings: Match.arrayWith([
          Match.objectLike({ ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() }),
        ]),
      });
    });

    it('validates request bodies', () => {
      synth.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
      });
    });

    it('gives the api Lambda every state machine ARN and the table name', () => {
      synth.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            CREATE_STATE_MACHINE_ARN: Match.anyValue(),
            DESTROY_STATE_MACHINE_ARN: Match.anyValue(),
            TABLE_NAME: Match.anyValue(),
          }),
        },
      });
    });

    it('outputs the API URL, the table name, and what users and profiles need', () => {
      expect(Object.keys(synth.template.findOutputs('*')).sort()).toEqual([
        'ApiUrl',
        'ApiUserPolicyArn',
        'ClusterSecurityGroupId',
        'InstanceProfileArn',
        'TableName',
      ]);
      synth.template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
      synth.template.hasOutput('ClusterSecurityGroupId', {
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ClusterSecurityGroup'), 'GroupId'] },
      });
      synth.template.hasOutput('InstanceProfileArn', {
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('InstanceProfile'), 'Arn'] },
      });
      synth.template.hasOutput('ApiUserPolicyArn', {
        Value: { Ref: Match.stringLikeRegexp('BilboApiUser') },
      });
    });
  });

  describe('the table', () => {
    it('has the key schema, indexes, TTL and billing of the table design', () => {
      synth.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: PARTITION_KEY.name, KeyType: 'HASH' },
          { AttributeName: SORT_KEY.name, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) =>
          Match.objectLike({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
            ],
          }),
        ),
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        BillingMode: BILLING_MODE,
      });
    });

    it('has the sparse live index: keyed by the live mark, whole records projected', () => {
      synth.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        GlobalSecondaryIndexes: Match.arrayWith([
          {
            IndexName: 'live',
            KeySchema: [
              { AttributeName: 'liveKind', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ]),
        AttributeDefinitions: Match.arrayWith([{ AttributeName: 'liveKind', AttributeType: 'S' }]),
      });
    });

    it('has point-in-time recovery and deletion protection, and is retained on stack delete', () => {
      synth.template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          Replicas: [
            Match.objectLike({
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              DeletionProtectionEnabled: true,
            }),
          ],
        }),
      });
    });
  });

  describe('the functions', () => {
    it('run on arm64 with a Node.js runtime and the bilbo defaults', () => {
      synth.template.allResourcesProperties('AWS::Lambda::Function', {
        Architectures: ['arm64'],
        Runtime: Match.stringLikeRegexp('^nodejs\\d+\\.x$'),
        Environment: {
          Variables: Match.objectLike({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'bilbo',
            TABLE_NAME: Match.anyValue(),
          }),
        },
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
    });

    it('get 512 MB, but the reaper’s sweep, which gets 1 GiB', () => {
      const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));
      const memory = functions.map((fn) => [fn.Metadata?.['bilbo:entry'], fn.Properties.MemorySize]);

      expect(memory.filter(([, size]) => size !== 512)).toEqual([['lambdas/handlers/tasks/sweep.ts', 1024]]);
    });

    it('each carry bilbo:entry metadata naming an existing handler module', () => {
      const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));
      const entries = functions.map((fn) => fn.Metadata?.['bilbo:entry'] as string);

      expect(entries).toHaveLength(21);
      for (const entry of entries) {
        expect(entry).toMatch(/^lambdas\/handlers\/.+\.ts$/);
        expect(existsSync(join(REPO_ROOT, entry)), entry).toBe(true);
      }
    });

    it('keep logs for a month', () => {
      synth.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });
  });

  describe('the workflows', () => {
    it('are six Standard state machines that log everything and trace', () => {
      synth.template.resourcePropertiesCountIs(
        'AWS::StepFunctions::StateMachine',
        {
          StateMachineType: 'STANDARD',
          LoggingConfiguration: Match.objectLike({ Level: 'ALL', Destinations: Match.anyValue() }),
          TracingConfiguration: { Enabled: true },
        },
        6,
      );
    });

    it('each time out a margin above their longest legal run', () => {
      const workflows = extractWorkflows(synth.template.toJSON());

      // The longest ready_timeout a profile may set, then launches, one probe budget and the rollback's retries.
      expect(workflows.create.definition.TimeoutSeconds).toBe(READY_TIMEOUT_MAX_SECONDS + 1800);
      expect(workflows.destroy.definition.TimeoutSeconds).toBe(DESTROY_TIMEOUT_SECONDS.default + 1800);
      expect(workflows.restart.definition.TimeoutSeconds).toBe(READY_TIMEOUT_MAX_SECONDS + 1800);
      // A pause's stop budget, then, when it is undone, the wait of a resume.
      expect(workflows.pause.definition.TimeoutSeconds).toBe(
        STOP_TIMEOUT_SECONDS + READY_TIMEOUT_MAX_SECONDS + 1800,
      );
      expect(workflows.resume.definition.TimeoutSeconds).toBe(READY_TIMEOUT_MAX_SECONDS + 1800);
      // Its one task twice (a transient Lambda error), and the retries' waits.
      expect(workflows.sweep.definition.TimeoutSeconds).toBe(SWEEP_TIMEOUT_SECONDS);
    });

    it('wait between two looks as long as the look says, bounded by the deadline', () => {
      const { create, destroy } = extractWorkflows(synth.template.toJSON());

      expect(create.definition.States.WaitForRunning).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.machines.waitSeconds',
      });
      expect(destroy.definition.States.WaitForTermination).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.machines.waitSeconds',
      });
      expect(destroy.definition.States.CheckTerminated?.Parameters).toMatchObject({
        Payload: { 'since.$': '$.requestedAt' },
      });
    });

    it('send every create step that fails to its *Failed marker and then RollbackCreate', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).create;

      expect(compensations(definition, 'RollbackCreate')).toEqual({
        LaunchPrimary: "States.Format('launch-{}', $.primaryRole)",
        LaunchMember: 'launch-members',
        CheckRunning: 'check-running',
        ProbeReady: 'probe-ready',
        StartInit: 'init',
        RunInit: 'init',
        RecordReady: 'record-ready',
      });
    });

    it('retry the create rollback on any error and then fail the execution', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).create;
      const rollback = definition.States.RollbackCreate!;

      expect(rollback.Retry).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
      );
      expect(definition.States[rollback.Next as string]).toMatchObject({
        Type: 'Fail',
        Error: 'ClusterCreateFailed',
      });
    });

    it('poll until the machines run, then until the cluster is ready, checking the machines between probes', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).create;

      expect(pollLoop(definition, 'CheckRunning')).toEqual({
        variable: '$.machines.done',
        whenDone: 'ProbeReady',
      });
      expect(pollLoop(definition, 'ProbeReady', 'CheckRunning')).toEqual({
        variable: '$.probe.ready',
        whenDone: 'StartInit',
      });
      expect(definition.States.RecordReady?.Next).toBe('Created');
    });

    it('run the init commands once the cluster is ready, looking again from where the last look stopped, then record READY', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).create;

      expect(definition.States.StartInit).toMatchObject({
        Parameters: { Payload: { 'clusterId.$': '$.clusterId' } },
        ResultPath: '$.init',
        Next: 'InitDone?',
      });
      expect(pollLoop(definition, 'RunInit')).toEqual({ variable: '$.init.done', whenDone: 'RecordReady' });
      expect(definition.States.RunInit?.Parameters).toMatchObject({
        Payload: { 'clusterId.$': '$.clusterId', 'position.$': '$.init.position' },
      });
      expect(definition.States.WaitForInit).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.init.waitSeconds',
      });
    });

    it('launch the primary role first, then the member roles one at a time with its address', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).create;

      expect(definition.StartAt).toBe('LaunchPrimary');
      expect(definition.States.LaunchPrimary).toMatchObject({
        Parameters: { Payload: { 'clusterId.$': '$.clusterId', 'role.$': '$.primaryRole' } },
        ResultPath: '$.primary',
        Next: 'LaunchMembersStart',
      });
      expect(eachInTurn(definition, 'LaunchMembers')).toEqual({
        items: '$.memberRoles',
        turn: '$.member',
        body: 'LaunchMember',
        after: 'CheckRunning',
      });
      expect(definition.States.LaunchMember).toMatchObject({
        Parameters: {
          Payload: { 'role.$': '$.member.item', 'primaryAddress.$': '$.primary.primaryAddress' },
        },
        Next: 'LaunchMembersAdvance',
      });
    });

    it('use no Map state, so that nothing queued behind a failed item starts', () => {
      for (const [name, { definition }] of Object.entries(extractWorkflows(synth.template.toJSON()))) {
        const types = Object.values(definition.States).map((state) => state.Type);
        expect(types, name).not.toContain('Map');
        expect(types, name).not.toContain('Parallel');
      }
    });

    it('destroy by terminating, polling until gone, and recording; any failure is recorded', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).destroy;

      expect(definition.StartAt).toBe('TerminateMachines');
      expect(definition.States.TerminateMachines?.Next).toBe('CheckTerminated');
      expect(pollLoop(definition, 'CheckTerminated')).toEqual({
        variable: '$.machines.done',
        whenDone: 'RecordDestroyed',
      });
      expect(compensations(definition, 'RecordDestroyFailed')).toEqual({
        TerminateMachines: 'terminate-machines',
        CheckTerminated: 'check-terminated',
        RecordDestroyed: 'record-destroyed',
      });
      for (const name of ['TerminateMachines', 'CheckTerminated', 'RecordDestroyFailed']) {
        expect(definition.States[name]?.Retry, name).toContainEqual(
          expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
        );
      }
    });

    it('restart each role in turn, polling until its restart is done, then wait for readiness as a create does', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).restart;

      expect(definition.StartAt).toBe('RestartRolesStart');
      expect(eachInTurn(definition, 'RestartRoles')).toEqual({
        items: '$.roles',
        turn: '$.turn',
        body: 'RestartRole',
        after: 'CheckRunning',
      });
      expect(definition.States.RestartRole).toMatchObject({
        Parameters: { Payload: { 'role.$': '$.turn.item', 'requestedAt.$': '$.requestedAt' } },
        Next: 'CheckRestart',
      });
      expect(pollLoop(definition, 'CheckRestart')).toEqual({
        variable: '$.check.done',
        whenDone: 'RestartRolesAdvance',
      });
      expect(definition.States.WaitForRestart).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.check.waitSeconds',
      });
      expect(definition.States.CheckRunning?.Parameters).toMatchObject({
        Payload: { want: 'running', 'since.$': '$.requestedAt' },
      });
      expect(pollLoop(definition, 'ProbeReady', 'CheckRunning')).toEqual({
        variable: '$.probe.ready',
        whenDone: 'RecordRestarted',
      });
    });

    it('send every restart step that fails to RecordRestartFailed, which retries and ends READY or failed', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).restart;
      const compensation = definition.States.RecordRestartFailed!;

      expect(compensations(definition, 'RecordRestartFailed')).toEqual({
        RestartRole: 'restart-services',
        CheckRestart: 'restart-services',
        CheckRunning: 'check-running',
        ProbeReady: 'probe-ready',
        RecordRestarted: 'record-restarted',
      });
      expect(compensation.Retry).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
      );
      expect(definition.States[compensation.Next as string]).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.outcome.state', StringEquals: 'READY', Next: 'ServicesBack' }],
        Default: 'RestartFailed',
      });
      expect(definition.States.RestartFailed).toMatchObject({ Type: 'Fail', Error: 'ClusterRestartFailed' });
    });

    it('pause: stop every machine, poll until all stopped, then record PAUSED', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).pause;

      expect(definition.StartAt).toBe('StopMachines');
      expect(definition.States.StopMachines?.Next).toBe('CheckStopped');
      expect(definition.States.CheckStopped?.Parameters).toMatchObject({
        Payload: { want: 'stopped', 'since.$': '$.requestedAt' },
      });
      expect(pollLoop(definition, 'CheckStopped')).toEqual({
        variable: '$.machines.done',
        whenDone: 'RecordPaused',
      });
      expect(definition.States.WaitForStopped).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.machines.waitSeconds',
      });
      expect(definition.States.RecordPaused?.Next).toBe('Paused');
    });

    it('pause: send every failure to RecordPauseFailed, which starts the machines again and waits as a resume does', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).pause;
      const compensation = definition.States.RecordPauseFailed!;

      expect(compensations(definition, 'RecordPauseFailed')).toEqual({
        StopMachines: 'stop-machines',
        CheckStopped: 'check-stopped',
        RecordPaused: 'record-paused',
      });
      expect(compensation.Retry).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
      );
      expect(definition.States[compensation.Next as string]).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.undo.state', StringEquals: 'RESUMING', Next: 'CheckRunning' }],
        Default: 'PauseFailed',
      });
      expect(definition.States.CheckRunning?.Parameters).toMatchObject({
        Payload: { want: 'running', starting: true, 'since.$': '$.undo.since' },
      });
      expect(pollLoop(definition, 'ProbeReady', 'CheckRunning')).toEqual({
        variable: '$.probe.ready',
        whenDone: 'RecordResumed',
      });
      // Back to READY or not, the pause did not happen.
      expect(definition.States.RecordResumed?.Next).toBe('PauseFailed');
      expect(definition.States.PauseFailed).toMatchObject({ Type: 'Fail', Error: 'ClusterPauseFailed' });
      expect(compensations(definition, 'RecordResumeFailed')).toEqual({
        CheckRunning: 'check-running',
        ProbeReady: 'probe-ready',
        RecordResumed: 'record-resumed',
      });
    });

    it('resume: start every machine, wait for them and for readiness as a create does, record READY', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).resume;

      expect(definition.StartAt).toBe('StartMachines');
      expect(definition.States.StartMachines?.Next).toBe('CheckRunning');
      expect(definition.States.CheckRunning?.Parameters).toMatchObject({
        Payload: { want: 'running', starting: true, 'since.$': '$.requestedAt' },
      });
      expect(pollLoop(definition, 'CheckRunning')).toEqual({
        variable: '$.machines.done',
        whenDone: 'ProbeReady',
      });
      expect(pollLoop(definition, 'ProbeReady', 'CheckRunning')).toEqual({
        variable: '$.probe.ready',
        whenDone: 'RecordResumed',
      });
      expect(definition.States.RecordResumed?.Next).toBe('Resumed');
    });

    it('resume: send every failure to RecordResumeFailed, which retries, stops the machines again and fails', () => {
      const { definition } = extractWorkflows(synth.template.toJSON()).resume;
      const compensation = definition.States.RecordResumeFailed!;

      expect(compensations(definition, 'RecordResumeFailed')).toEqual({
        StartMachines: 'start-machines',
        CheckRunning: 'check-running',
        ProbeReady: 'probe-ready',
        RecordResumed: 'record-resumed',
      });
      expect(compensation.Retry).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
      );
      expect(definition.States[compensation.Next as string]).toMatchObject({
        Type: 'Fail',
        Error: 'ClusterResumeFailed',
      });
    });
  });

  describe('the AwsSolutions checks', () => {
    it('pass, and every acknowledgment gives its reason', () => {
      expect(() => synth.app.synth()).not.toThrow();
      const acknowledgments = synth.app.node
        .findAll()
        .flatMap((construct) => construct.node.metadata)
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>));

      expect(acknowledgments.length).toBeGreaterThan(0);
      for (const [id, reason] of acknowledgments) expect(reason.trim().length, id).toBeGreaterThan(20);
    });

    it('fail the synth when a resource breaks a rule', () => {
      const { app, stack } = buildApp({ skipBundling: true, outdir: join(synth.outdir, 'nag-check') });
      new Bucket(stack, 'UnloggedBucket');

      expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    });
  });
});

describe('BilboStack with bundling', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({ skipBundling: false });
  });
  afterAll(() => synth.cleanup());

  it('bundles every function into an ESM asset', () => {
    const manifest = JSON.parse(
      readFileSync(join(synth.outdir, `${synth.stack.artifactId}.assets.json`), 'utf8'),
    ) as {
      files: Record<string, { source: { path: string } }>;
    };
    const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));

    expect(functions).toHaveLength(21);
    for (const fn of functions) {
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const asset = manifest.files[key.replace(/\.zip$/, '')];
      expect(asset, key).toBeDefined();
      expect(
        existsSync(join(synth.outdir, asset!.source.path, 'index.mjs')),
        fn.Metadata?.['bilbo:entry'],
      ).toBe(true);
    }
  });
});

/** "METHOD /path" for each API method, joining resources through their parents. */
function routes(resources: Resources): string[] {
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    const resource = id ? resources[id] : undefined;
    if (resource?.Type !== 'AWS::ApiGateway::Resource') return '';
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
    .map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId) || '/'}`);
}

/**
 * For each state that catches into a `*Failed` Pass leading to `compensation`: the step name the Pass
 * records. Every other Task or Map state catches into a marker too, unless it is a compensation.
 */
function compensations(definition: AslDefinition, compensation: string): Record<string, string> {
  const found: Record<string, string> = {};
  const markers = Object.entries(definition.States).filter(
    ([name, state]) => name.endsWith('Failed') && state.Type === 'Pass' && state.ResultPath === '$.failed',
  );
  const allCompensations = new Set([compensation, ...markers.map(([, marker]) => marker.Next as string)]);
  for (const [name, state] of Object.entries(definition.States)) {
    const catchers = (state.Catch ?? []) as Array<{
      ErrorEquals: string[];
      Next: string;
      ResultPath?: string;
    }>;
    if (state.Type !== 'Task' && state.Type !== 'Map') continue;
    if (allCompensations.has(name)) {
      expect(catchers, `${name} must not catch its own failure`).toEqual([]);
      continue;
    }
    expect(catchers, name).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name}Failed` },
    ]);
    const marker = definition.States[`${name}Failed`] as AslState;
    expect(marker).toMatchObject({ Type: 'Pass', ResultPath: '$.failed' });
    if (marker.Next !== compensation) continue;
    const parameters = marker.Parameters as { step?: string; 'step.$'?: string };
    found[name] = (parameters.step ?? parameters['step.$']) as string;
  }
  return found;
}

/** The check → Choice → Wait → `loopsTo` loop after `check`: what it tests and where it goes when done. */
/**
 * The states of `steps.eachInTurn(id, …)`: a start that counts the items, a
 * Choice that takes the next one while the index is below the count, the
 * body, and an advance back to the Choice. Returns what the loop runs over.
 */
function eachInTurn(
  definition: AslDefinition,
  id: string,
): { items: string; turn: string; body: string; after: string } {
  const states = definition.States;
  const start = states[`${id}Start`] as AslState;
  const more = states[start.Next as string] as AslState;
  const [rule] = more.Choices as Array<{ Variable: string; NumericLessThanPath: string; Next: string }>;
  const take = states[rule!.Next] as AslState;
  const advance = states[`${id}Advance`] as AslState;
  const turn = start.ResultPath as string;
  const items = /^States\.ArrayLength\((.+)\)$/.exec(
    (start.Parameters as Record<string, string>)['count.$']!,
  )?.[1];

  expect(start).toMatchObject({ Type: 'Pass', Next: `${id}More?` });
  expect(more.Type).toBe('Choice');
  expect(rule).toMatchObject({
    Variable: `${turn}.index`,
    NumericLessThanPath: `${turn}.count`,
    Next: `${id}Next`,
  });
  expect(take).toMatchObject({
    Type: 'Pass',
    ResultPath: turn,
    Parameters: { 'item.$': `States.ArrayGetItem(${items}, ${turn}.index)` },
  });
  expect(advance).toMatchObject({
    Type: 'Pass',
    ResultPath: turn,
    Parameters: { 'index.$': `States.MathAdd(${turn}.index, 1)` },
    Next: `${id}More?`,
  });
  return { items: items!, turn, body: take.Next as string, after: more.Default as string };
}

function pollLoop(
  definition: AslDefinition,
  check: string,
  loopsTo = check,
): { variable: string; whenDone: string } {
  const choice = definition.States[definition.States[check]?.Next as string] as AslState;
  expect(choice.Type).toBe('Choice');
  const [rule] = choice.Choices as Array<{ Variable: string; BooleanEquals: boolean; Next: string }>;
  const wait = definition.States[choice.Default as string] as AslState;
  expect(wait).toMatchObject({ Type: 'Wait', Next: loopsTo });
  expect(rule?.BooleanEquals).toBe(true);
  return { variable: rule!.Variable, whenDone: rule!.Next };
}

describe('BilboStack with a longer destroy timeout', () => {
  it('gives the destroy state machine and the api Lambda the same budget', () => {
    const synth = synthesize({ context: { 'bilbo:destroyTimeoutSeconds': '1200' } });
    try {
      expect(extractWorkflows(synth.template.toJSON()).destroy.definition.TimeoutSeconds).toBe(1200 + 1800);
      synth.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ DESTROY_TIMEOUT_SECONDS: '1200' }) },
      });
    } finally {
      synth.cleanup();
    }
  });
});
