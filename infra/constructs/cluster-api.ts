import { Duration } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Model,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  AnyPrincipal,
  ArnPrincipal,
  Effect,
  ManagedPolicy,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BY_KIND_INDEX, BY_NAME_INDEX, LIVE_INDEX } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { ACCESS, environmentOf } from '../../lambdas/config.ts';
import startCommandRequestSchema from '../../schemas/api/start-command.request.schema.json' with {
  type: 'json',
};
import { bundleRequestModel } from '../request-model.ts';
import { addEnvironment, BilboFunction } from './bilbo-function.ts';
import { type ClusterTable, ITEM, type TableAccess } from './cluster-table.ts';
import type { ClusterWorkflows } from './cluster-workflows.ts';
import type { MachineAccess } from './machine-access.ts';
import { acknowledge, refInFinding } from './nag.ts';

export interface ClusterApiProps {
  readonly table: ClusterTable;
  readonly workflows: ClusterWorkflows;
  /** Grants the api function what a plan, the launch preflight and a create need. */
  readonly machines: MachineAccess;
  /**
   * IAM principal ARNs (users, roles) that alone may call the API, through the API's resource policy.
   * @default - any principal of the account whose IAM policies allow execute-api:Invoke (e.g. the user policy)
   */
  readonly adminPrincipals?: readonly string[];
  /**
   * IAM user or role ARNs that may change any cluster, besides its owner (the handler checks).
   * @default - none
   */
  readonly admins?: readonly string[];
  /**
   * Steady-state requests per second the stage accepts.
   * @default 20
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage accepts in a burst.
   * @default 40
   */
  readonly throttlingBurstLimit?: number;
}

/**
 * What the API's use cases do to the table: create records a cluster, its
 * name lock and first event (PutItem); destroy, restart, pause, resume and a failed start transition it
 * (UpdateItem, PutItem, DeleteItem of the name lock) and record the execution
 * (UpdateItem); describe and destroy find a cluster by its name lock (GetItem)
 * or the byName index; list queries the live index (and byKind, for ls -a
 * and, once per table, to mark the live records an older bilbo wrote);
 * events query the table.
 */
const API_TABLE_ACCESS: TableAccess = {
  items: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
  queryTable: true,
  queryIndexes: [BY_NAME_INDEX, BY_KIND_INDEX, LIVE_INDEX],
};

/** The api function's timeout: an events request may wait 20 s for an event (schemas/api/common.schema.json). */
export const API_TIMEOUT = Duration.seconds(25);

/**
 * The signed HTTP API: every method requires AWS_IAM (SigV4) auth and goes
 * to the one api Lambda, which routes inside.
 */
export class ClusterApi extends Construct {
  readonly api: RestApi;
  readonly handler: BilboFunction;
  /** The body of POST /clusters and POST /plan, checked by API Gateway before the Lambda runs. */
  readonly requestModel: Model;
  /** `execute-api:Invoke` on every method of the API: attach it to bilbo's users. */
  readonly userPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ClusterApiProps) {
    super(scope, id);
    this.handler = new BilboFunction(this, 'Handler', {
      entry: 'lambdas/handlers/api.ts',
      description: 'bilbo: the HTTP API (clusters, events, plan, commands, reap)',
      // Above the longest events wait (20 s), under API Gateway's 29 s integration timeout.
      timeout: API_TIMEOUT,
    });
    addEnvironment(this.handler, environmentOf(ACCESS, { admins: props.admins?.join(',') || undefined }));
    props.table.grantTo(this.handler, API_TABLE_ACCESS);
    props.workflows.grantStartTo(this.handler);
    // `bilbo reap` reads the sweep it started (GET /reap/{id}).
    props.workflows.grantDescribeExecutions(this.handler, 'sweep');
    // The preflight dry-runs the real RunInstances, which checks the same permissions as a launch.
    props.machines.grantLaunch(this.handler);
    props.machines.grantPreflight(this.handler);
    props.machines.grantWriteSecrets(this.handler);
    // The notebook's token, for its owner (GET /clusters/{name}/notebook).
    props.machines.grantReadSecrets(this.handler);
    props.machines.grantRunCommands(this.handler);
    // Reads refresh the health of READY clusters from their instances.
    props.machines.grantDescribe(this.handler);

    this.api = new RestApi(this, 'Api', {
      description: 'bilbo: create, list, restart, pause, resume and destroy clusters',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      ...(props.adminPrincipals?.length ? { policy: onlyThese(props.adminPrincipals) } : {}),
      cloudWatchRole: true,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: props.throttlingRateLimit ?? 20,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 40,
        loggingLevel: MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH }),
        ),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    acknowledge(
      this.api,
      'COG4',
      'Callers authenticate with IAM (SigV4, AWS_IAM on every method): bilbo users are AWS principals, not Cognito users.',
    );
    acknowledge(
      this.api,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "API Gateway's account-level logging role: this managed policy is the documented way to let it write execution logs.",
    );
    acknowledge(
      this.api,
      'APIG3',
      'Every method needs a SigV4 signature from an IAM principal allowed to call it, and the stage is throttled: a WAF web ACL adds cost without blocking anything those do not.',
    );

    if (props.adminPrincipals?.length) {
      // A changed resource policy takes effect only with a new deployment.
      this.api.latestDeployment?.addToLogicalId({ adminPrincipals: props.adminPrincipals });
    }
    this.requestModel = this.api.addModel('CreateClusterRequest', {
      modelName: 'CreateClusterRequest',
      contentType: 'application/json',
      description:
        'The body of POST /clusters and POST /plan (schemas/api/create-cluster.request.schema.json)',
      schema: bundleRequestModel(),
    });

    const startCommandModel = this.api.addModel('StartCommandRequest', {
      modelName: 'StartCommandRequest',
      contentType: 'application/json',
      description:
        'The body of POST /clusters/{name}/commands (schemas/api/start-command.request.schema.json)',
      schema: bundleRequestModel(startCommandRequestSchema.$id),
    });

    const integration = new LambdaIntegration(this.handler, { allowTestInvoke: false });
    const withBody = { requestValidator, requestModels: { 'application/json': this.requestModel } };
    const clusters = this.api.root.addResource('clusters');
    clusters.addMethod('POST', integration, withBody);
    clusters.addMethod('GET', integration);
    const cluster = clusters.addResource('{name}');
    cluster.addMethod('GET', integration);
    cluster.addMethod('DELETE', integration);
    cluster.addResource('events').addMethod('GET', integration);
    const commands = cluster.addResource('commands');
    commands.addMethod('POST', integration, {
      requestValidator,
      requestModels: { 'application/json': startCommandModel },
    });
    commands.addMethod('GET', integration);
    const command = commands.addResource('{id}');
    command.addMethod('GET', integration);
    command.addMethod('DELETE', integration);
    cluster.addResource('restart').addMethod('POST', integration);
    cluster.addResource('notebook').addMethod('GET', integration);
    cluster.addResource('pause').addMethod('POST', integration);
    cluster.addResource('resume').addMethod('POST', integration);
    this.api.root.addResource('plan').addMethod('POST', integration, withBody);
    const reap = this.api.root.addResource('reap');
    reap.addMethod('POST', integration);
    reap.addResource('{id}').addMethod('GET', integration);

    this.userPolicy = new ManagedPolicy(this, 'BilboApiUser', {
      description: 'Lets its holder use bilbo: call every method of the bilbo API',
      statements: [
        new PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: this.api.methods.map((method) => method.methodArn),
        }),
      ],
    });
    const stage = `${refInFinding(this.api)}/${refInFinding(this.api.deploymentStage)}`;
    for (const method of this.api.methods.filter((m) => m.resource.path.includes('{'))) {
      const path = method.resource.path.replace(/\{[^}]*\}/g, '*');
      acknowledge(
        this.userPolicy,
        `IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${stage}/${method.httpMethod}${path}]`,
        'One method of this API in its stage; each wildcard stands for a path parameter: {name} any cluster name, {id} any of its commands.',
      );
    }
  }

  /** The invoke URL of the deployed stage. */
  get url(): string {
    return this.api.url;
  }
}

/** A resource policy under which only `principals` may invoke the API, whatever other IAM policies say. */
function onlyThese(principals: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        principals: principals.map((arn) => new ArnPrincipal(arn)),
      }),
      // In the API's own account an identity policy alone would let a caller in: deny everyone else.
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        principals: [new AnyPrincipal()],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': [...principals] } },
      }),
    ],
  });
}
