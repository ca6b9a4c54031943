import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** How an AwsSolutions finding names a resource's ARN: `<LogicalId.Arn>`. */
export function arnInFinding(resource: IConstruct): string {
  return `<${logicalIdOf(resource)}.Arn>`;
}

/** How an AwsSolutions finding names a `Ref` to a resource: `<LogicalId>`. */
export function refInFinding(resource: IConstruct): string {
  return `<${logicalIdOf(resource)}>`;
}

/** How an IAM5 finding names a wildcard ARN that `regionalArn(service, resource, where)` (arns.ts) makes. */
export function wildcardFinding(
  service: string,
  resource: string,
  where: { account?: boolean } = {},
): string {
  const account = where.account === false ? '' : '<AWS::AccountId>';
  return `IAM5[Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:${account}:${resource}]`;
}

/** The logical id of a construct's CloudFormation resource, as findings name it. */
export function logicalIdOf(resource: IConstruct): string {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  return Stack.of(resource).getLogicalId(element);
}

/** Acknowledges one AwsSolutions rule (or one finding of it) on `scope` and everything below it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
}
