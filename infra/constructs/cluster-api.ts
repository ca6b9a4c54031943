import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BilboFunction } from './bilbo-function.ts';
import type { ClusterTable } from './cluster-table.ts';
import type { ClusterWorkflows } from './cluster-workflows.ts';
import { acknowledge } from './nag.ts';

export interface ClusterApiProps {
  readonly table: ClusterTable;
  readonly workflows: ClusterWorkflows;
  /**
   * Extra environment for the api function, e.g. MACHINE_PROVIDER.
   * @default - none
   */
  readonly environment?: Record<string, string>;
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
 * The signed HTTP API: every method requires AWS_IAM (SigV4) auth and goes
 * to the one api Lambda, which routes inside.
 */
export class ClusterApi extends Construct {
  readonly api: RestApi;
  readonly handler: BilboFunction;

  constructor(scope: Construct, id: string, props: ClusterApiProps) {
    super(scope, id);
    this.handler = new BilboFunction(this, 'Handler', {
      entry: 'lambdas/handlers/api.ts',
      description: 'bilbo: the HTTP API (clusters, events, plan)',
      environment: props.environment,
    });
    props.table.grantReadWriteTo(this.handler);
    props.workflows.grantStartTo(this.handler);

    this.api = new RestApi(this, 'Api', {
      description: 'bilbo: create, list and destroy Dask clusters',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
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

    const integration = new LambdaIntegration(this.handler);
    const withBody = { requestValidator };
    const clusters = this.api.root.addResource('clusters');
    clusters.addMethod('POST', integration, withBody);
    clusters.addMethod('GET', integration);
    const cluster = clusters.addResource('{name}');
    cluster.addMethod('GET', integration);
    cluster.addMethod('DELETE', integration);
    cluster.addResource('events').addMethod('GET', integration);
    this.api.root.addResource('plan').addMethod('POST', integration, withBody);
  }

  /** The invoke URL of the deployed stage. */
  get url(): string {
    return this.api.url;
  }
}
