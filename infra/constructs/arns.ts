import { Aws } from 'aws-cdk-lib';

/** An ARN in the stack's account and region; `account: false` for resources whose ARN has no account (images). */
export function regionalArn(service: string, resource: string, where: { account?: boolean } = {}): string {
  const account = where.account === false ? '' : Aws.ACCOUNT_ID;
  return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${account}:${resource}`;
}
