/**
 * Whether an instance is one this deployment launched. Tags are not proof:
 * anyone with ec2:CreateTags can put a cluster's tags on a foreign instance
 * so that the next destroy terminates it. What no one can change after a
 * launch is proof: the instance profile it runs with and the client token
 * of the RunInstances call that launched it.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import type { RoleName } from '../../../schemas/types.generated.ts';
import { launchToken } from '../../domain/machines.ts';
import { type Ec2ProviderConfig, TAGS } from './launch-params.ts';

export type Provenance = Pick<Ec2ProviderConfig, 'deploymentId' | 'instanceProfileArn'>;

/** Why the instance is not this deployment's, or undefined when it is. */
export function foreignReason(instance: Instance, ours: Provenance): string | undefined {
  const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
  if (tag(TAGS.managed) !== ours.deploymentId) {
    return `its ${TAGS.managed} tag is not this deployment's (${ours.deploymentId})`;
  }
  if (instance.IamInstanceProfile?.Arn !== ours.instanceProfileArn) {
    return "it does not run with bilbo's instance profile";
  }
  const clusterId = tag(TAGS.clusterId) ?? '';
  const role = (tag(TAGS.role) ?? '') as RoleName;
  if (!clusterId || instance.ClientToken !== launchToken(clusterId, role)) {
    return `bilbo did not launch it (its client token is not that of ${clusterId || 'a cluster'}'s ${role || 'role'} launch)`;
  }
  return undefined;
}
