/**
 * Before the reaper destroys a cluster that has a notebook, destroy's
 * unsaved-work check runs there through the remote-command port. Only a
 * check that finished and found nothing lets the destroy go on: unsaved
 * work, or a check that could not run or finish, pauses the cluster
 * instead (its volumes keep the work), and the reason says which.
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { ENDED } from '../commands/settle.ts';
import { parseUnsavedWork, unsavedWorkScript } from '../commands/unsaved-work.ts';
import { kindOf } from '../kinds/index.ts';
import type { Clock, RemoteCommandRunner } from '../ports.ts';

export interface SafetyCheckDeps {
  remote: RemoteCommandRunner;
  clock: Clock;
  newCommandId: () => string;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** How long the check may run on the notebook before it counts as "could not run". */
export const SAFETY_CHECK_TIMEOUT_SECONDS = 60;
const POLL_MS = 1_000;
/** Looks at most, whatever the clock says. */
const MAX_LOOKS = SAFETY_CHECK_TIMEOUT_SECONDS + 10;
const OUTPUT_LIMIT_BYTES = 256 * 1024;

/** Nothing to lose (no notebook, or the check found nothing), or why the cluster must be paused instead. */
export type SafetyVerdict = { safe: true } | { safe: false; why: string };

export async function checkNothingLost(cluster: Cluster, deps: SafetyCheckDeps): Promise<SafetyVerdict> {
  const notebooks = (cluster.instances ?? []).filter((instance) => instance.role === 'notebook');
  if (notebooks.length === 0) return { safe: true };
  const role = cluster.plan.roles.find((plan) => plan.role === 'notebook');
  const workdir = role ? kindOf(cluster.plan.kind).commandWorkdir(role) : undefined;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = deps.clock.now().getTime() + (SAFETY_CHECK_TIMEOUT_SECONDS + 10) * 1000;
  try {
    const sent = await deps.remote.send(deps.newCommandId(), notebooks, {
      script: unsavedWorkScript(),
      ...(workdir ? { workdir } : {}),
      timeoutSeconds: SAFETY_CHECK_TIMEOUT_SECONDS,
      comment: `bilbo reaper: unsaved-work check on ${cluster.name}`,
    });
    for (const notebook of notebooks) {
      for (let looks = 1; ; looks++) {
        const report = await deps.remote.read(sent, notebook, { stdout: 0, stderr: 0 }, OUTPUT_LIMIT_BYTES);
        if (ENDED.includes(report.state)) {
          const found = parseUnsavedWork(new TextDecoder().decode(report.stdout));
          if (found.findings.length > 0) {
            const where = [...new Set(found.findings.map((f) => `${f.kind} in ${f.repository}`))];
            return { safe: false, why: `unsaved work in its notebook (${where.join(', ')})` };
          }
          if (!found.complete || found.problems.length > 0) {
            const problem = found.problems[0]?.message ?? `the check ended ${report.state}`;
            return { safe: false, why: `its notebook could not be checked for unsaved work (${problem})` };
          }
          break;
        }
        if (deps.clock.now().getTime() >= deadline || looks >= MAX_LOOKS) {
          return {
            safe: false,
            why: 'its notebook could not be checked for unsaved work (no answer in time)',
          };
        }
        await sleep(POLL_MS);
      }
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { safe: false, why: `its notebook could not be checked for unsaved work (${message})` };
  }
  return { safe: true };
}
