import { SystemdServiceRestarter } from '../../adapters/systemd/service-restarter.ts';
import { UNWIRED_REMOTE_COMMANDS } from '../../adapters/unwired-remote-commands.ts';
import type { ServiceRestarter } from '../../domain/ports.ts';

/** Restarts of the instances' services: systemd, driven through the remote-command port (SSM Run Command). */
export function systemdServices(): ServiceRestarter {
  return new SystemdServiceRestarter({ commands: UNWIRED_REMOTE_COMMANDS });
}
