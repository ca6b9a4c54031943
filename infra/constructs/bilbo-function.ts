import { join } from 'node:path';
import { type CfnResource, Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, ISubnet, IVpc } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENTRY_METADATA_KEY } from '../metadata.ts';
import { LAMBDA_BUNDLING, LAMBDA_RUNTIME } from './bundling.ts';
import { acknowledge, wildcardFinding } from './nag.ts';
import { ANY_NETWORK_INTERFACE, networkInterfacePolicy } from './network-interface-access.ts';

/** The repository root: entries and the lock file are resolved against it. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface BilboFunctionProps {
  /** The handler module, relative to the repository root, e.g. 'lambdas/handlers/tasks/launch-role.ts'. */
  readonly entry: string;
  readonly description: string;
  /**
   * Extra environment variables, merged over the defaults.
   * @default - only the defaults (POWERTOOLS_SERVICE_NAME, NODE_OPTIONS)
   */
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Run inside a VPC, in these subnets with these security groups.
   * @default - outside any VPC
   */
  readonly vpcPlacement?: FunctionVpcPlacement;
}

export interface FunctionVpcPlacement {
  readonly vpc: IVpc;
  readonly subnets: readonly ISubnet[];
  readonly securityGroups: ISecurityGroup[];
  /**
   * Accept public subnets (a Lambda never gets a public IP there): say why where you set it.
   * @default false
   */
  readonly allowPublicSubnet?: boolean;
}

const DEFAULT_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: 'bilbo',
  NODE_OPTIONS: '--enable-source-maps',
};

/** Gives `fn` these deployment variables (see lambdas/config.ts). */
export function addEnvironment(fn: LambdaFunction, environment: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
}

/** A bilbo Lambda: the one place that holds runtime, architecture, bundling and log defaults. */
export class BilboFunction extends NodejsFunction {
  /** The handler module, relative to the repository root. */
  readonly entryPath: string;

  constructor(scope: Construct, id: string, props: BilboFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH });
    const placement = props.vpcPlacement;
    // Our own role, allowed to write to this function's log group only (instead of the managed
    // AWSLambdaBasicExecutionRole, which allows every log group). In a VPC, Lambda creates and
    // removes the function's network interfaces with it: that policy is part of the role itself,
    // so it lasts as long as the role, past the function and the interfaces Lambda removes after it.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry}`,
      ...(placement ? { inlinePolicies: { NetworkInterfaces: networkInterfacePolicy(placement) } } : {}),
    });
    logGroup.grantWrite(role);
    if (placement) {
      acknowledge(
        role,
        'IAM5[Resource::*]',
        'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions.',
      );
      acknowledge(
        role,
        wildcardFinding('ec2', ANY_NETWORK_INTERFACE),
        "Lambda creates, deletes and re-addresses the function's network interfaces, whose ids are not known in advance; creating one is allowed only in the function's subnets with its security groups.",
      );
    }
    super(scope, id, {
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup,
      role,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: { ...DEFAULT_ENVIRONMENT, ...props.environment },
      ...(placement
        ? {
            vpc: placement.vpc,
            vpcSubnets: { subnets: [...placement.subnets] },
            securityGroups: placement.securityGroups,
            allowPublicSubnet: placement.allowPublicSubnet ?? false,
          }
        : {}),
      bundling: { ...LAMBDA_BUNDLING, mainFields: [...LAMBDA_BUNDLING.mainFields] },
    });
    this.entryPath = props.entry;
    (this.node.defaultChild as CfnResource).addMetadata(ENTRY_METADATA_KEY, props.entry);
  }
}
