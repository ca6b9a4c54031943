import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Where each cluster's secrets live in SSM Parameter Store: `<prefix>/<clusterId>/<key>`. */
export const SECRETS_PREFIX = '/bilbo/clusters';

/** The ARN of every cluster's parameters (`parameter/bilbo/clusters/*`) in the stack's account and region. */
export function clusterParametersArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `${SECRETS_PREFIX.replace(/^\//, '')}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
