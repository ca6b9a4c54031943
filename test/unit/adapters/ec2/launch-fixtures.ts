import { Ec2MachineProvider } from '../../../../lambdas/adapters/ec2/ec2-provider.ts';
import type { Ec2ProviderConfig } from '../../../../lambdas/adapters/ec2/launch-params.ts';
import type { LaunchRequest } from '../../../../lambdas/domain/ports.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2Mock,
  MOCK_AMI,
  MOCK_KEY_PAIR,
  MOCK_PROFILE_SG,
} from '../../../support/ec2-mock.ts';

export const CLUSTER_ID = 'c-0123456789abcdef';
export const OWNER = 'arn:aws:sts::123456789012:assumed-role/data-team/alice';

/** A worker launch with every instance field the profile can set. */
export function workerLaunch(overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    clusterId: CLUSTER_ID,
    clusterName: 'analytics',
    owner: OWNER,
    role: 'worker',
    firstIndex: 0,
    count: 3,
    instance: {
      ami: MOCK_AMI,
      ec2type: 'c5.2xlarge',
      keyname: MOCK_KEY_PAIR,
      security_group: MOCK_PROFILE_SG,
      vol_size: 50,
      init_cmd: ['pip install pandas'],
      tags: [
        ['team', 'data'],
        ['Name', 'chosen-by-the-profile'],
        ['aws:cloudformation:stack-name', 'refused-by-ec2'],
        ['bilbo:role', 'scheduler'],
      ],
    },
    instanceType: { name: 'c5.2xlarge', vcpus: 8, threadsPerCore: 2, memoryMiB: 16384, source: 'ec2' },
    instancePrefix: 'bilbo-',
    idempotencyToken: `${CLUSTER_ID}-worker`,
    bootstrap: {
      kind: 'dask',
      schedulerAddress: 'tcp://10.0.0.4:8786',
      dask: { nworkers: 4, nthreads: 2, memoryLimitBytes: 4 * 1024 ** 3 },
    },
    ...overrides,
  };
}

export const renderUserData = (request: LaunchRequest): string =>
  `#!/bin/bash\nset -euo pipefail\necho "bilbo ${request.role} of ${request.clusterName}"\n`;

export function providerOver(
  ec2: Ec2Mock,
  config: Partial<Ec2ProviderConfig> = {},
  warn: (line: string) => void = () => {},
): Ec2MachineProvider {
  return new Ec2MachineProvider({
    client: ec2.client,
    config: { ...EC2_TEST_CONFIG, ...config },
    renderUserData,
    warn,
  });
}
