import type {
  ServiceRestarter,
  ServiceRestartProgress,
  ServiceRestartRequest,
  ServiceRestartTicket,
} from '../../domain/ports.ts';
import type { LocalProcessProvider } from './process-provider.ts';

/**
 * Local restarts: each instance's process started again by the local
 * provider, on the ports it had. Done once `restart` returns: it waits
 * until the processes listen again.
 */
export class LocalServiceRestarter implements ServiceRestarter {
  constructor(private readonly processes: LocalProcessProvider) {}

  async restart(request: ServiceRestartRequest): Promise<ServiceRestartTicket> {
    await this.processes.restart(request.instances.map((instance) => instance.id));
    return { id: request.restartKey };
  }

  async progress(): Promise<ServiceRestartProgress> {
    return { done: true };
  }
}
