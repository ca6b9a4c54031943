import { type Ec2Adapters, ec2Adapters } from '../../adapters/ec2/ec2-adapters.ts';
import type { ConfigOf, EC2 as EC2_CONFIG } from '../../config.ts';
import { logger } from '../logger.ts';

/** The EC2 provider, instance-type catalog and preflight of the deployment, in the function's region. */
export function ec2FromConfig(config: ConfigOf<typeof EC2_CONFIG>, region: string): Ec2Adapters {
  return ec2Adapters({
    region,
    subnetIds: config.subnetIds,
    clusterSecurityGroupId: config.securityGroupId,
    instanceProfileArn: config.instanceProfileArn,
    deploymentId: config.deploymentId,
    allowedSecurityGroupIds: config.allowedSecurityGroupIds,
    warn: (message) => logger.warn(message),
    ...(config.defaultAmi ? { defaultAmi: config.defaultAmi } : {}),
  });
}
