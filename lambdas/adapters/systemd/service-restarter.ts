/**
 * EC2 restarts: `systemctl restart` of the role's units (its kind names
 * them), run as root on each instance through the remote-command port, so
 * the services come back as the service manager starts them at boot.
 */
import { createHash } from 'node:crypto';
import type { ClusterInstance } from '../../../schemas/types.generated.ts';
import { shellQuote } from '../../domain/boot/shell.ts';
import { kindOf } from '../../domain/kinds/index.ts';
import type {
  InvocationReport,
  RemoteCommandRunner,
  ServiceRestarter,
  ServiceRestartProgress,
  ServiceRestartRequest,
  ServiceRestartTicket,
} from '../../domain/ports.ts';

export interface SystemdServiceRestarterOptions {
  commands: RemoteCommandRunner;
  /** How long one instance's restart may take before the command is stopped. @default 120 */
  timeoutSeconds?: number;
}

/** Enough of a failed restart's stderr to say why (systemctl names the unit and the journal). */
const STDERR_BYTES = 2048;
const ENDED_BADLY = new Set<InvocationReport['state']>(['failed', 'cancelled', 'timed-out', 'lost']);

export class SystemdServiceRestarter implements ServiceRestarter {
  private readonly commands: RemoteCommandRunner;
  private readonly timeoutSeconds: number;

  constructor(options: SystemdServiceRestarterOptions) {
    this.commands = options.commands;
    this.timeoutSeconds = options.timeoutSeconds ?? 120;
  }

  async restart(request: ServiceRestartRequest): Promise<ServiceRestartTicket> {
    const units = kindOf(request.kind).serviceUnits(request.role);
    const sent = await this.commands.send(commandIdOf(request.restartKey), request.instances, {
      script: `systemctl restart -- ${units.map(shellQuote).join(' ')}`,
      // The service manager is root's to drive.
      user: 'root',
      timeoutSeconds: this.timeoutSeconds,
      comment: `bilbo restart of the ${request.role} services of ${request.clusterName}`,
    });
    return { id: sent.providerCommandId };
  }

  async progress(
    ticket: ServiceRestartTicket,
    instances: readonly ClusterInstance[],
  ): Promise<ServiceRestartProgress> {
    const sent = { providerCommandId: ticket.id };
    const reports = await Promise.all(
      instances.map(async (instance) => ({
        instance,
        report: await this.commands.read(sent, instance, { stdout: 0, stderr: 0 }, STDERR_BYTES),
      })),
    );
    const failed = reports.find(({ report }) => ENDED_BADLY.has(report.state));
    if (failed) return { done: true, failure: `${failed.instance.id}: ${describeFailure(failed.report)}` };
    return { done: reports.every(({ report }) => report.state === 'succeeded') };
  }
}

/** A command id in the form command records use (`cmd-` and 16 hex digits), the same for every attempt. */
export function commandIdOf(restartKey: string): string {
  return `cmd-${createHash('sha256').update(restartKey).digest('hex').slice(0, 16)}`;
}

function describeFailure(report: InvocationReport): string {
  const exit = report.exitCode === undefined ? '' : ` with exit code ${report.exitCode}`;
  const reason = report.reason ? `: ${report.reason}` : '';
  const stderr = new TextDecoder().decode(report.stderr).trim().split('\n').slice(-3).join(' | ');
  return `the restart ended ${report.state}${exit}${reason}${stderr ? `: ${stderr}` : ''}`;
}
