import { SystemdServiceRestarter } from '../../adapters/systemd/service-restarter.ts';
import type { ServiceRestarter } from '../../domain/ports.ts';
import { ssmCommands } from './remote-commands.ts';

/** Restarts of the instances' services: systemd, driven through the remote-command port (SSM Run Command). */
export function systemdServices(region: string): ServiceRestarter {
  return new SystemdServiceRestarter({ commands: ssmCommands(region) });
}
