import { remoteCommandsClient, ssmRemoteCommands } from '../../adapters/ssm/remote-commands.ts';
import { IMAGE_SERVICE_ACCOUNT } from '../../domain/kinds/index.ts';
import type { RemoteCommandRunner } from '../../domain/ports.ts';

/** Commands on the cluster instances through SSM Run Command, as the image's service account. */
export function ssmCommands(region: string): RemoteCommandRunner {
  return ssmRemoteCommands(remoteCommandsClient(region), IMAGE_SERVICE_ACCOUNT);
}
