import { isDeepStrictEqual } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSM_AGENT_ACTIONS } from '../../infra/constructs/cluster-instance-role.ts';
import { MachineAccess } from '../../infra/constructs/machine-access.ts';
import { type Synthesized, synthesize } from './synth.ts';
import {
  actionsOf,
  allStatements,
  arnText,
  entries,
  machineActionsOf,
  render,
  resourcesIn,
  roleOf,
  type Statement,
  statementsOf,
  statementsOfRole,
  tableActionsOf,
} from './template-iam.ts';

const API = 'lambdas/handlers/api.ts';
const ADMINS = ['arn:aws:iam::123456789012:role/data-team', 'arn:aws:iam::123456789012:user/alice'];
const task = (name: string) => `lambdas/handlers/tasks/${name}.ts`;

const LAUNCH = ['ec2:CreateTags', 'ec2:DescribeImages', 'ec2:RunInstances', 'iam:PassRole'];
const TERMINATE = ['ec2:DescribeInstances', 'ec2:TerminateInstances'];
const STOP = ['ec2:DescribeInstances', 'ec2:StopInstances'];
const START = ['ec2:DescribeInstances', 'ec2:StartInstances'];
const REMOVE_SECRETS = ['ssm:DeleteParameters', 'ssm:GetParametersByPath'];
const RUN_COMMANDS = ['ssm:CancelCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommands', 'ssm:SendCommand'];
const REACHABILITY = 'ssm:DescribeInstanceInformation';
/** The deployment's id: its stack's UUID, which no other deployment shares. */
const DEPLOYMENT_ID = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
const MANAGED = { StringEquals: { 'aws:RequestTag/bilbo:managed': DEPLOYMENT_ID } };
const TAGGED = {
  StringEquals: { 'ec2:ResourceTag/bilbo:managed': DEPLOYMENT_ID },
  ArnEquals: { 'ec2:InstanceProfile': expect.anything() },
};
const PARAMETERS = arnText('ssm', 'parameter/bilbo/clusters/*');
const SEND_COMMANDS = ['ssm:SendCommand'];
const READ_COMMANDS = ['ssm:GetCommandInvocation', 'ssm:ListCommands'];
/** What Lambda needs to place a function in the VPC. */
const IN_VPC = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];

const withAction = (statements: Statement[], action: string) =>
  statements.filter((statement) => actionsOf(statement).includes(action));

describe('BilboStack access', () => {
  let synth: Synthesized;
  let instanceRoleId: string;

  beforeAll(() => {
    synth = synthesize();
    const profile = Object.values(synth.template.findResources('AWS::IAM::InstanceProfile'));
    expect(profile).toHaveLength(1);
    instanceRoleId = render((profile[0]!.Properties.Roles as unknown[])[0]).slice(1, -1);
  });
  afterAll(() => synth.cleanup());

  describe('each function', () => {
    it('may take exactly the EC2, IAM and SSM actions of its step', () => {
      const granted = Object.fromEntries(
        entries(synth.template).map((entry) => [entry, machineActionsOf(synth.template, entry)]),
      );

      expect(granted).toEqual({
        [API]: [
          ...LAUNCH,
          // Reads refresh the health of READY clusters.
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeKeyPairs',
          'ec2:DescribeSecurityGroups',
          ...RUN_COMMANDS,
          'ssm:GetParameter',
          'ssm:PutParameter',
        ].sort(),
        [task('launch-role')]: LAUNCH,
        // While pausing or resuming it asks again for the machines not stopped or started yet.
        [task('check-machines')]: [
          ...TERMINATE,
          'ec2:StartInstances',
          'ec2:StopInstances',
          'ssm:DescribeInstanceInformation',
        ].sort(),
        // What Lambda needs to place it in the VPC, and the notebook's token to present.
        [task('probe-ready')]: [...IN_VPC, 'ssm:GetParameter'].sort(),
        [task('run-init')]: RUN_COMMANDS,
        [task('record-ready')]: [],
        [task('rollback-create')]: [...TERMINATE, ...REMOVE_SECRETS].sort(),
        [task('terminate-machines')]: [...TERMINATE, ...REMOVE_SECRETS].sort(),
        [task('record-destroyed')]: [],
        [task('record-destroy-failed')]: [],
        [task('restart-role')]: SEND_COMMANDS,
        [task('check-restart')]: READ_COMMANDS,
        [task('record-restarted')]: [],
        // One look at the dashboards, from the VPC, like the probe.
        [task('record-restart-failed')]: [...IN_VPC, 'ssm:GetParameter'].sort(),
        [task('stop-machines')]: STOP,
        [task('record-paused')]: [],
        // Starts again what a failed pause stopped.
        [task('record-pause-failed')]: START,
        [task('start-machines')]: START,
        [task('record-resumed')]: [],
        // Stops again what a failed resume started.
        [task('record-resume-failed')]: STOP,
        // From the VPC: the services' activity (the notebook's token), the machines' health,
        // stuck clusters rolled back or stopped, orphans removed, the unsaved-work check.
        [task('sweep')]: [
          ...IN_VPC,
          ...TERMINATE,
          'ec2:StopInstances',
          'ec2:DescribeVolumes',
          'ec2:DeleteVolume',
          ...REMOVE_SECRETS,
          'ssm:GetParameter',
          ...RUN_COMMANDS,
        ].sort(),
      });
    });

    it('sends remote commands only to instances with the deployment tag, and only AWS-RunShellScript', () => {
      const sends = withAction(statementsOf(synth.template, task('restart-role')), 'ssm:SendCommand');

      expect(sends.map((statement) => [resourcesIn(statement), statement.Condition])).toEqual([
        [[arnText('ssm', 'document/AWS-RunShellScript', '')], undefined],
        [
          [arnText('ec2', 'instance/*')],
          { StringEquals: { 'aws:ResourceTag/bilbo:managed': DEPLOYMENT_ID } },
        ],
      ]);
    });

    it('is given the deployment variables of its step, and no others', () => {
      const given = Object.fromEntries(
        Object.values(synth.template.findResources('AWS::Lambda::Function')).map((fn) => [
          fn.Metadata['bilbo:entry'],
          Object.keys(fn.Properties.Environment.Variables)
            .filter((name) => !['POWERTOOLS_SERVICE_NAME', 'NODE_OPTIONS'].includes(name))
            .sort(),
        ]),
      );
      const EC2 = [
        'CLUSTER_SECURITY_GROUP_ID',
        'CLUSTER_SUBNET_IDS',
        'DEPLOYMENT_ID',
        'INSTANCE_PROFILE_ARN',
      ];

      expect(given).toEqual({
        [API]: [
          ...EC2,
          'CREATE_STATE_MACHINE_ARN',
          'DESTROY_STATE_MACHINE_ARN',
          'DESTROY_TIMEOUT_SECONDS',
          'PAUSE_STATE_MACHINE_ARN',
          'RESTART_STATE_MACHINE_ARN',
          'RESUME_STATE_MACHINE_ARN',
          'SECRETS_PREFIX',
          'SWEEP_STATE_MACHINE_ARN',
          'TABLE_NAME',
        ].sort(),
        [task('launch-role')]: [...EC2, 'SECRETS_PREFIX', 'TABLE_NAME'].sort(),
        [task('check-machines')]: [...EC2, 'TABLE_NAME'].sort(),
        [task('probe-ready')]: ['PROBE_NETWORK', 'SECRETS_PREFIX', 'TABLE_NAME'],
        [task('run-init')]: ['SECRETS_PREFIX', 'TABLE_NAME'],
        [task('record-ready')]: ['TABLE_NAME'],
        [task('rollback-create')]: [...EC2, 'SECRETS_PREFIX', 'TABLE_NAME'].sort(),
        [task('terminate-machines')]: [...EC2, 'SECRETS_PREFIX', 'TABLE_NAME'].sort(),
        [task('record-destroyed')]: ['TABLE_NAME'],
        [task('record-destroy-failed')]: ['TABLE_NAME'],
        [task('restart-role')]: ['TABLE_NAME'],
        [task('check-restart')]: ['TABLE_NAME'],
        [task('record-restarted')]: ['TABLE_NAME'],
        [task('record-restart-failed')]: ['PROBE_NETWORK', 'SECRETS_PREFIX', 'TABLE_NAME'],
        [task('stop-machines')]: [...EC2, 'TABLE_NAME'].sort(),
        [task('record-paused')]: ['TABLE_NAME'],
        [task('record-pause-failed')]: [...EC2, 'TABLE_NAME'].sort(),
        [task('start-machines')]: [...EC2, 'TABLE_NAME'].sort(),
        [task('record-resumed')]: ['TABLE_NAME'],
        [task('record-resume-failed')]: [...EC2, 'TABLE_NAME'].sort(),
        // The workflows it starts, never its own.
        [task('sweep')]: [
          ...EC2,
          'DESTROY_STATE_MACHINE_ARN',
          'DESTROY_TIMEOUT_SECONDS',
          'PAUSE_STATE_MACHINE_ARN',
          'PROBE_NETWORK',
          'REAPER_MAX_LIFETIME_CEILING_SECONDS',
          'REAPER_ORPHAN_GRACE_SECONDS',
          'REAPER_PAUSED_MAX_AGE_SECONDS',
          'REAPER_STUCK_GRACE_SECONDS',
          'REAPER_UNKNOWN_LOOKS_BEFORE_FAILED',
          'SECRETS_PREFIX',
          'TABLE_NAME',
        ].sort(),
      });
    });

    it('is told the network, instance profile and secrets of the deployment where it needs them', () => {
      const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));

      for (const fn of functions.filter((f) => 'CLUSTER_SUBNET_IDS' in f.Properties.Environment.Variables)) {
        const variables = fn.Properties.Environment.Variables;
        expect(variables, fn.Metadata['bilbo:entry']).toMatchObject({
          CLUSTER_SUBNET_IDS: {
            'Fn::Join': [
              ',',
              [{ Ref: expect.stringMatching(/Subnet1/) }, { Ref: expect.stringMatching(/Subnet2/) }],
            ],
          },
          CLUSTER_SECURITY_GROUP_ID: {
            'Fn::GetAtt': [expect.stringMatching(/ClusterSecurityGroup/), 'GroupId'],
          },
          INSTANCE_PROFILE_ARN: { 'Fn::GetAtt': [expect.stringMatching(/InstanceProfile/), 'Arn'] },
          DEPLOYMENT_ID,
        });
        expect(variables).not.toHaveProperty('DEFAULT_AMI');
      }
      for (const fn of functions.filter((f) => 'SECRETS_PREFIX' in f.Properties.Environment.Variables)) {
        expect(fn.Properties.Environment.Variables.SECRETS_PREFIX).toBe('/bilbo/clusters');
      }
      const [probe] = functions.filter((f) => f.Metadata['bilbo:task'] === 'probeReady');
      expect(probe?.Properties.Environment.Variables.PROBE_NETWORK).toBe('private');
    });
  });

  describe('the clusters table', () => {
    const GET = 'dynamodb:GetItem';
    const PUT = 'dynamodb:PutItem';
    const UPDATE = 'dynamodb:UpdateItem';
    const DELETE = 'dynamodb:DeleteItem';
    const CHECK = 'dynamodb:ConditionCheckItem';
    const QUERY = 'dynamodb:Query';
    let table: string;

    beforeAll(() => {
      const tables = Object.keys(synth.template.findResources('AWS::DynamoDB::GlobalTable'));
      expect(tables).toHaveLength(1);
      table = `<${tables[0]}.Arn>`;
    });

    it('is open to each function for exactly the item actions of its step, and queried by the API and the sweep alone', () => {
      const granted = Object.fromEntries(
        entries(synth.template).map((entry) => [entry, tableActionsOf(synth.template, entry)]),
      );
      const onTable = (...actions: string[]) => ({ [table]: actions.sort() });

      expect(granted).toEqual({
        [API]: {
          ...onTable(GET, PUT, UPDATE, DELETE, QUERY),
          [`${table}/index/byName`]: [QUERY],
          [`${table}/index/byKind`]: [QUERY],
          [`${table}/index/live`]: [QUERY],
        },
        [task('launch-role')]: onTable(GET, PUT, UPDATE, CHECK),
        [task('check-machines')]: onTable(GET, PUT, UPDATE, CHECK),
        [task('probe-ready')]: onTable(GET, PUT, UPDATE),
        [task('run-init')]: onTable(GET, PUT, CHECK),
        [task('record-ready')]: onTable(GET, PUT, UPDATE),
        [task('rollback-create')]: onTable(GET, PUT, UPDATE, DELETE, CHECK),
        [task('terminate-machines')]: onTable(GET, PUT, CHECK),
        [task('record-destroyed')]: onTable(GET, PUT, UPDATE, DELETE),
        [task('record-destroy-failed')]: onTable(GET, PUT, UPDATE, DELETE),
        [task('restart-role')]: onTable(GET, PUT, UPDATE),
        [task('check-restart')]: onTable(GET, PUT, CHECK),
        [task('record-restarted')]: onTable(GET, PUT, UPDATE),
        [task('record-restart-failed')]: onTable(GET, PUT, UPDATE, DELETE),
        [task('stop-machines')]: onTable(GET, PUT, CHECK),
        [task('record-paused')]: onTable(GET, PUT, UPDATE),
        [task('record-pause-failed')]: onTable(GET, PUT, UPDATE, DELETE),
        [task('start-machines')]: onTable(GET, PUT, CHECK),
        [task('record-resumed')]: onTable(GET, PUT, UPDATE),
        [task('record-resume-failed')]: onTable(GET, PUT, UPDATE, DELETE),
        // It lists the live clusters, and the commands running on one.
        [task('sweep')]: {
          ...onTable(GET, PUT, UPDATE, DELETE, CHECK, QUERY),
          [`${table}/index/byKind`]: [QUERY],
          [`${table}/index/live`]: [QUERY],
        },
      });
    });

    it('is never scanned, read in batches, described or read through a stream, by any policy', () => {
      const dynamodb = allStatements(synth.template)
        .flatMap(actionsOf)
        .filter((action) => action.startsWith('dynamodb:'));

      expect(dynamodb.length).toBeGreaterThan(0);
      expect(
        dynamodb.filter((action) =>
          /^dynamodb:(Scan|Batch\w+|GetRecords|GetShardIterator|DescribeStream|ListStreams|DescribeTable|\*)$/.test(
            action,
          ),
        ),
      ).toEqual([]);
      expect(new Set(dynamodb)).toEqual(new Set([GET, PUT, UPDATE, DELETE, CHECK, QUERY]));
    });
  });

  describe('launching', () => {
    it("runs instances only with the deployment's bilbo:managed request tag and IMDSv2, volumes only encrypted", () => {
      const launching = withAction(allStatements(synth.template), 'ec2:RunInstances');
      const on = (kind: string) =>
        launching.filter((statement) => resourcesIn(statement).some((arn) => arn.endsWith(`:${kind}/*`)));

      expect(on('instance').length).toBeGreaterThanOrEqual(2);
      for (const statement of on('instance')) {
        expect(resourcesIn(statement)).toEqual([arnText('ec2', 'instance/*')]);
        expect(statement.Condition).toEqual({
          StringEquals: { ...MANAGED.StringEquals, 'ec2:MetadataHttpTokens': 'required' },
        });
      }
      expect(on('volume').length).toBe(on('instance').length);
      for (const statement of on('volume')) {
        expect(resourcesIn(statement)).toEqual([arnText('ec2', 'volume/*')]);
        expect(statement.Condition).toEqual({ ...MANAGED, Bool: { 'ec2:Encrypted': 'true' } });
      }
    });

    it("uses any image and key pair, but only the cluster subnets and the cluster's security group", () => {
      const [, , inputs] = withAction(statementsOf(synth.template, task('launch-role')), 'ec2:RunInstances');

      expect(inputs?.Condition).toBeUndefined();
      expect(resourcesIn(inputs!)).toEqual([
        arnText('ec2', 'image/*', ''),
        expect.stringMatching(
          /^arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:subnet\/<.*Subnet1Subnet.*>$/,
        ),
        expect.stringMatching(
          /^arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:subnet\/<.*Subnet2Subnet.*>$/,
        ),
        expect.stringMatching(
          /^arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group\/<.*ClusterSecurityGroup.*\.GroupId>$/,
        ),
        arnText('ec2', 'key-pair/*'),
        arnText('ec2', 'network-interface/*'),
      ]);
    });

    it('tags inside RunInstances; afterwards only the launch step renames, and only the Name of the deployment’s instances', () => {
      const tagging = withAction(allStatements(synth.template), 'ec2:CreateTags');
      const atLaunch = { StringEquals: { 'ec2:CreateAction': 'RunInstances' } };
      const renaming = tagging.filter((statement) => !isDeepStrictEqual(statement.Condition, atLaunch));

      expect(tagging.length - renaming.length).toBeGreaterThanOrEqual(2);
      expect(renaming).toEqual(
        withAction(statementsOf(synth.template, task('launch-role')), 'ec2:CreateTags').filter(
          (statement) => !isDeepStrictEqual(statement.Condition, atLaunch),
        ),
      );
      expect(
        renaming.map((statement) => [actionsOf(statement), resourcesIn(statement), statement.Condition]),
      ).toEqual([
        [
          ['ec2:CreateTags'],
          [arnText('ec2', 'instance/*')],
          { ...TAGGED, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name'] } },
        ],
      ]);
    });

    it('passes only the instance role, and only to EC2', () => {
      const functionRoles = entries(synth.template).map((entry) => roleOf(synth.template, entry));
      const passing = functionRoles.flatMap((role) =>
        withAction(statementsOfRole(synth.template, role), 'iam:PassRole'),
      );

      expect(passing.length).toBeGreaterThanOrEqual(2);
      for (const statement of passing) {
        expect(actionsOf(statement)).toEqual(['iam:PassRole']);
        expect(resourcesIn(statement)).toEqual([`<${instanceRoleId}.Arn>`]);
        expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
      }
    });
  });

  describe('stopping, starting and terminating', () => {
    it("touch only instances with the deployment's bilbo:managed tag and bilbo's instance profile", () => {
      const lifecycle = allStatements(synth.template).filter((statement) =>
        actionsOf(statement).some((action) => /^ec2:(Terminate|Stop|Start)Instances$/.test(action)),
      );

      // Terminate: check-machines, rollback-create, terminate-machines (check-machines' also stops and
      // starts), the sweep (which also stops); stop or start: the four pause and resume steps that act on machines.
      expect(lifecycle.length).toBe(8);
      for (const statement of lifecycle) {
        expect(resourcesIn(statement)).toEqual([arnText('ec2', 'instance/*')]);
        expect(statement.Condition).toEqual(TAGGED);
      }
    });

    it('are granted the same way for stop and start', () => {
      const stack = new Stack(new App(), 'Grants');
      const fn = new LambdaFunction(stack, 'Fn', {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('export const handler = () => {}'),
      });
      const instanceRole = new Role(stack, 'Instance', {
        assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      });
      new MachineAccess({
        instanceRole,
        instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/bilbo',
        deploymentId: DEPLOYMENT_ID as unknown as string,
        subnets: [],
        securityGroupIds: [],
        ec2Environment: {},
        secretsEnvironment: {},
      }).grantInstanceActions(fn, ['ec2:StopInstances', 'ec2:StartInstances']);
      const [statement] = allStatements(Template.fromStack(stack));

      expect(actionsOf(statement!)).toEqual(['ec2:StopInstances', 'ec2:StartInstances']);
      expect(statement!.Condition).toEqual(TAGGED);
    });
  });

  describe('secrets', () => {
    it('are written by the api and removed by the cleanup steps, only under /bilbo/clusters/', () => {
      const agent: readonly string[] = SSM_AGENT_ACTIONS;
      const ssm = allStatements(synth.template).filter(
        (statement) =>
          statement.Effect === 'Allow' &&
          actionsOf(statement).some(
            (action) =>
              action.startsWith('ssm:') &&
              !agent.includes(action) &&
              !RUN_COMMANDS.includes(action) &&
              action !== REACHABILITY,
          ),
      );

      expect(ssm.length).toBeGreaterThanOrEqual(4);
      for (const statement of ssm) expect(resourcesIn(statement)).toEqual([PARAMETERS]);
    });
  });

  describe('remote commands', () => {
    it("are sent only by the API, the init step, the restart step and the sweep, only with AWS-RunShellScript, only to the deployment's instances", () => {
      const sending = withAction(allStatements(synth.template), 'ssm:SendCommand');

      expect(sending).toEqual([
        ...withAction(statementsOf(synth.template, API), 'ssm:SendCommand'),
        ...withAction(statementsOf(synth.template, task('run-init')), 'ssm:SendCommand'),
        ...withAction(statementsOf(synth.template, task('restart-role')), 'ssm:SendCommand'),
        ...withAction(statementsOf(synth.template, task('sweep')), 'ssm:SendCommand'),
      ]);
      expect(sending.slice(0, 2).map((statement) => [resourcesIn(statement), statement.Condition])).toEqual([
        [[arnText('ssm', 'document/AWS-RunShellScript', '')], undefined],
        [
          [arnText('ec2', 'instance/*')],
          { StringEquals: { 'aws:ResourceTag/bilbo:managed': DEPLOYMENT_ID } },
        ],
      ]);
      for (const statement of sending) expect(actionsOf(statement)).toEqual(['ssm:SendCommand']);
    });
  });

  describe('every policy', () => {
    it('names each action in full: no service wildcards', () => {
      const actions = allStatements(synth.template).flatMap(actionsOf);

      expect(actions.length).toBeGreaterThan(50);
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });

    it('allows Resource "*" only to Describe*, logging, tracing, SSM agent and command-reading actions, which have no resource-level permissions', () => {
      const onAnything = allStatements(synth.template).filter((statement) =>
        resourcesIn(statement).includes('*'),
      );
      const agent: readonly string[] = SSM_AGENT_ACTIONS;

      for (const action of onAnything.flatMap(actionsOf).filter((action) => !agent.includes(action))) {
        expect(action).toMatch(
          /^(ec2:Describe\w+|logs:\w+|xray:\w+|ssm:(GetCommandInvocation|ListCommands|CancelCommand|DescribeInstanceInformation))$/,
        );
      }
    });
  });

  describe('the API', () => {
    it('lets API Gateway invoke the function only from the deployed stage, not from the console’s test invoke', () => {
      const permissions = Object.values(synth.template.findResources('AWS::Lambda::Permission'));
      const sources = permissions.map((permission) => JSON.stringify(permission.Properties.SourceArn ?? ''));

      expect(permissions.length).toBeGreaterThan(0);
      expect(sources.filter((source) => source.includes('test-invoke-stage'))).toEqual([]);
    });

    it('allows execute-api:Invoke on each method of the API in its stage, and nothing else', () => {
      const policies = Object.values(synth.template.findResources('AWS::IAM::ManagedPolicy'));

      expect(policies).toHaveLength(1);
      const [statement, ...others] = policies[0]!.Properties.PolicyDocument.Statement;
      expect(others).toEqual([]);
      expect(statement).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
      expect(
        statement.Resource.map((arn: unknown) =>
          render(arn).replace(/^.*:<Api\w+>\/<ApiDeploymentStage\w+>/, ''),
        ).sort(),
      ).toEqual(
        [
          '/DELETE/clusters/*',
          '/GET/clusters',
          '/GET/clusters/*',
          '/GET/clusters/*/events',
          '/GET/clusters/*/notebook',
          '/POST/clusters',
          '/POST/clusters/*/restart',
          '/POST/clusters/*/pause',
          '/POST/clusters/*/resume',
          '/POST/plan',
          '/POST/clusters/*/commands',
          '/GET/clusters/*/commands',
          '/GET/clusters/*/commands/*',
          '/DELETE/clusters/*/commands/*',
          '/POST/reap',
          '/GET/reap/*',
        ].sort(),
      );
    });

    it('leaves the API without a resource policy when no admin principals are configured', () => {
      const [api] = Object.values(synth.template.findResources('AWS::ApiGateway::RestApi'));

      expect(api!.Properties.Policy).toBeUndefined();
    });
  });

  describe('the instance role', () => {
    it('is assumed by EC2 through the one instance profile, with no managed policy', () => {
      const role = synth.template.toJSON().Resources[instanceRoleId];

      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Action: 'sts:AssumeRole', Principal: { Service: 'ec2.amazonaws.com' } }),
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('grants no statement anywhere in the stack that reads parameters on *', () => {
      const reads = allStatements(synth.template).filter(
        (statement) =>
          (statement.Effect ?? 'Allow') === 'Allow' &&
          actionsOf(statement).some((action) => /^ssm:(GetParameter|\*)/.test(action) || action === '*') &&
          resourcesIn(statement).some((resource) => resource === '*' || resource.endsWith(':parameter/*')),
      );
      expect(reads).toEqual([]);
    });

    it('denies every parameter read outside bilbo’s path, whatever else is ever attached to the role', () => {
      const deny = statementsOfRole(synth.template, instanceRoleId).find(
        (statement) => statement.Effect === 'Deny',
      );

      expect(deny).toMatchObject({
        Action: [
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:GetParametersByPath',
          'ssm:GetParameterHistory',
        ],
      });
      expect(render(deny!.NotResource)).toBe(PARAMETERS);
    });

    it("runs the SSM agent, reads the clusters' parameters and decrypts them with the aws/ssm key through SSM only", () => {
      const statements = statementsOfRole(synth.template, instanceRoleId).filter((s) => s.Effect !== 'Deny');

      expect(statements.map((statement) => [actionsOf(statement), resourcesIn(statement)])).toEqual([
        [[...SSM_AGENT_ACTIONS], ['*']],
        [['ssm:GetParameter'], [PARAMETERS]],
        [['kms:Decrypt'], [arnText('kms', 'key/*')]],
      ]);
      expect(statements[2]!.Condition).toEqual({
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/aws/ssm' },
      });
    });
  });
});

describe('the API with admin principals', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({
      context: {
        'bilbo:adminPrincipals': ADMINS.join(','),
        'bilbo:admins': 'arn:aws:iam::123456789012:role/ops',
      },
    });
  });
  afterAll(() => synth.cleanup());

  it('tells the API function, and only it, who may change any cluster (bilbo:admins)', () => {
    const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));
    const told = functions.filter((fn) => 'BILBO_ADMINS' in fn.Properties.Environment.Variables);

    expect(told.map((fn) => fn.Metadata['bilbo:entry'])).toEqual(['lambdas/handlers/api.ts']);
    expect(told[0]!.Properties.Environment.Variables.BILBO_ADMINS).toBe('arn:aws:iam::123456789012:role/ops');
  });

  it('lets only those principals invoke it, whatever other IAM policies allow', () => {
    const [api] = Object.values(synth.template.findResources('AWS::ApiGateway::RestApi'));

    expect(api!.Properties.Policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Principal: { AWS: ADMINS },
      },
      {
        Effect: 'Deny',
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Principal: { AWS: '*' },
        Condition: { ArnNotLike: { 'aws:PrincipalArn': ADMINS } },
      },
    ]);
  });

  it('still requires AWS_IAM on every method', () => {
    synth.template.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
  });
});

describe('a deployment that lets profiles add security groups', () => {
  const ALLOWED = ['sg-0a1b2c3d4e5f60718', 'sg-0f0e0d0c0b0a09080'];
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({ context: { 'bilbo:allowedSecurityGroups': ALLOWED.join(',') } });
  });
  afterAll(() => synth.cleanup());

  it('may launch with those groups and the cluster’s, and no other', () => {
    const launching = withAction(allStatements(synth.template), 'ec2:RunInstances');
    const groups = launching.flatMap((statement) =>
      resourcesIn(statement).filter((arn) => arn.includes(':security-group/')),
    );

    expect(new Set(groups)).toEqual(
      new Set([
        expect.stringMatching(/:security-group\/<.*ClusterSecurityGroup.*\.GroupId>$/),
        ...ALLOWED.map((id) => arnText('ec2', `security-group/${id}`)),
      ]),
    );
    expect(groups.some((arn) => arn.endsWith('/*'))).toBe(false);
  });

  it('tells the functions that launch and check launches which groups are allowed', () => {
    const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));
    const told = functions.filter(
      (fn) => 'ALLOWED_SECURITY_GROUP_IDS' in fn.Properties.Environment.Variables,
    );

    expect(told.map((fn) => fn.Metadata['bilbo:entry']).sort()).toEqual(
      expect.arrayContaining(['lambdas/handlers/api.ts', 'lambdas/handlers/tasks/launch-role.ts']),
    );
    for (const fn of told) {
      expect(fn.Properties.Environment.Variables.ALLOWED_SECURITY_GROUP_IDS).toBe(ALLOWED.join(','));
    }
  });
});
