import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DEFAULT_SECRETS_PREFIX } from '../../lambdas/adapters/ssm/secret-names.ts';

/** Where each cluster's secrets live in SSM Parameter Store: `<prefix>/<clusterId>/<key>`. */
export const SECRETS_PREFIX = DEFAULT_SECRETS_PREFIX;

/** The ARN of every cluster's parameters (`parameter/bilbo/clusters/*`) in the stack's account and region. */
export function clusterParametersArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `${SECRETS_PREFIX.replace(/^\//, '')}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
