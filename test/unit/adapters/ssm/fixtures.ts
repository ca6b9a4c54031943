import {
  SsmRemoteCommands,
  type SsmRemoteCommandsOptions,
} from '../../../../lambdas/adapters/ssm/remote-commands.ts';
import { IMAGE_SERVICE_ACCOUNT } from '../../../../lambdas/domain/kinds/index.ts';
import type { Clock, OutputOffsets, RemoteScript } from '../../../../lambdas/domain/ports.ts';
import type { ClusterInstance } from '../../../../schemas/types.generated.ts';
import type { SsmMock } from '../../../support/ssm-mock.ts';

export const COMMAND_ID = 'cmd-0123456789abcdef';
export const START: OutputOffsets = { stdout: 0, stderr: 0 };

export function instance(n: number, role: ClusterInstance['role'] = 'worker'): ClusterInstance {
  return { id: `i-0${n.toString(16).padStart(16, '0')}`, role, index: n };
}

export function script(overrides: Partial<RemoteScript> = {}): RemoteScript {
  return { script: 'echo hello', timeoutSeconds: 3600, comment: 'bilbo rcmd on analytics', ...overrides };
}

/** The runner as the deployment builds it: the image's service user. */
export function runnerOver(
  ssm: SsmMock,
  options: Partial<Omit<SsmRemoteCommandsOptions, 'client'>> & { clock?: Clock } = {},
): SsmRemoteCommands {
  return new SsmRemoteCommands({
    client: ssm.client,
    serviceAccount: IMAGE_SERVICE_ACCOUNT,
    ...options,
  });
}
