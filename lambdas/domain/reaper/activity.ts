/**
 * Whether a READY cluster is in use now: its kind's look at its services
 * (activityChecks, judged by judgeActivity), and no remote command
 * running on it. No answer is "unknown", never "idle".
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { kindOf } from '../kinds/index.ts';
import type { ActivityVerdict } from '../kinds/kind.ts';
import type { Clock, CommandStore, HttpAnswer } from '../ports.ts';
import type { ServicesProbe } from '../use-cases/refresh-health.ts';
import { probeNetworkOf } from '../workflow/probe-ready.ts';
import { probeSecretsOf } from '../workflow/readiness-checks.ts';

export interface ActivityDeps {
  servicesProbe: ServicesProbe;
  commands: Pick<CommandStore, 'listCommands'>;
  clock: Clock;
}

export async function lookAtActivity(cluster: Cluster, deps: ActivityDeps): Promise<ActivityVerdict> {
  const now = deps.clock.now().getTime();
  try {
    const commands = await deps.commands.listCommands(cluster.id, { limit: 20 });
    // A RUNNING record past its timeout was never settled: its command was stopped then.
    const running = commands.filter(
      (command) =>
        command.state === 'RUNNING' && Date.parse(command.createdAt) + command.timeoutSeconds * 1000 > now,
    );
    if (running.length > 0) {
      return { state: 'active', why: `${running.length} remote commands running (${running[0]!.what})` };
    }
  } catch {
    return { state: 'unknown', why: 'its remote commands could not be read' };
  }

  const kind = kindOf(cluster.plan.kind);
  const { probe, secrets } = deps.servicesProbe;
  let groups: ReturnType<typeof kind.activityChecks>;
  try {
    groups = kind.activityChecks(
      cluster,
      probeNetworkOf(deps.servicesProbe, cluster.plan),
      await probeSecretsOf(cluster, secrets),
    );
  } catch (error) {
    return { state: 'unknown', why: error instanceof Error ? error.message : String(error) };
  }
  const answers: Record<string, HttpAnswer | undefined> = {};
  for (const group of groups) Object.assign(answers, await probe.look(group));
  return kind.judgeActivity(cluster, answers, {
    ...(cluster.activityMark === undefined ? {} : { lastMark: cluster.activityMark }),
    ignoreClients: cluster.plan.idleIgnoresClients === true,
  });
}
