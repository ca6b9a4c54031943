/**
 * Where the SSM remote-command runner (SsmRemoteCommands, behind its
 * retrying wrapper) plugs in: it is being written on its own, and until it
 * lands every call fails with a clear reason instead of doing nothing.
 * Replacing this constant at its two uses (composition/services.ts,
 * aws-adapters.ts) is the whole of wiring it.
 */
import { ProvisioningError } from '../domain/errors.ts';
import type { RemoteCommandRunner } from '../domain/ports.ts';

const unwired = async (): Promise<never> => {
  throw new ProvisioningError('remote commands on EC2 (SSM Run Command) are not wired into this build yet');
};

export const UNWIRED_REMOTE_COMMANDS: RemoteCommandRunner = { send: unwired, read: unwired, cancel: unwired };
