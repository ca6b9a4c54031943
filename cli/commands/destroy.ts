import type { Cluster, CommandState } from '../../schemas/types.generated.ts';
import type { BilboApi } from '../api/client.ts';
import { CancelledError, ClusterFailedError, ClusterStateError, UsageError } from '../errors.ts';
import type { Factory, IOStreams } from '../factory.ts';
import { followCluster, lastEventId } from '../follow.ts';
import { formatSeconds, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';
import { checkUnsavedWork, describeOutcome, hasNotebook } from '../unsaved-work-check.ts';

export interface DestroyOptions {
  name: string;
  /** Do not ask; required when not on a terminal. */
  force: boolean;
  /** Follow the destruction until DESTROYED or FAILED (false with --no-wait). */
  wait: boolean;
  json: boolean;
  /** Only when the cluster's last command FAILED or TIMED_OUT (--if-failed, destroyfailed). */
  ifFailed?: boolean;
}

/** A question can be asked only when both the keyboard and the prompt's stream are a terminal. */
export function canPrompt(io: IOStreams): boolean {
  return io.isStdinTTY && io.isStderrTTY;
}

export async function destroyRun(options: DestroyOptions, f: Factory): Promise<void> {
  const { name } = options;
  const mustRefuse = () => !options.force && !canPrompt(f.io);
  // --if-failed may end up destroying nothing, which needs no terminal: it decides first.
  if (mustRefuse() && !options.ifFailed) throw offTerminal();
  const startedAt = f.now();
  const api = await f.api();
  const current = await api.getCluster(name);
  if (current.state === 'DESTROYED') {
    f.io.stderr.write(`cluster ${name} is already destroyed\n`);
    if (options.json) f.io.stdout.write(toJson(current));
    return;
  }
  if (options.ifFailed) {
    const failed = await lastCommandFailed(api, name);
    f.io.stderr.write(`${failed.why}\n`);
    if (!failed.yes) {
      if (options.json) f.io.stdout.write(toJson(current));
      return;
    }
    if (mustRefuse()) throw offTerminal();
  }
  if (!options.force) await confirmDestroy(f, api, current);
  const after = options.wait ? await lastEventId(api, name) : undefined;
  const destroying = await api.destroyCluster(name);
  if (!options.wait) {
    f.io.stdout.write(options.json ? toJson(destroying) : `${name}\t${destroying.state}\n`);
    f.io.stderr.write(`cluster ${name} is being destroyed; watch it with \`bilbo desc ${name}\`\n`);
    return;
  }

  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  let cluster: Cluster;
  try {
    cluster = await followCluster(f, api, name, {
      until: 'DESTROYED',
      ...(after === undefined ? {} : { after }),
      onEvent: (event) => progress.update(event.message),
      interruptedMessage: `stopped following: cluster ${name} keeps being destroyed; watch it with \`bilbo desc ${name}\``,
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  if (cluster.state === 'FAILED') {
    progress.fail();
    throw new ClusterFailedError(
      name,
      cluster.failure?.step ?? 'unknown',
      cluster.failure?.message ?? 'no reason recorded',
    );
  }
  if (cluster.state !== 'DESTROYED') {
    progress.fail();
    throw new ClusterStateError(`cluster ${name} is ${cluster.state}, not DESTROYED`);
  }
  progress.succeed();
  f.io.stdout.write(
    options.json ? toJson(cluster) : `destroyed cluster ${name} in ${formatSeconds(f.now() - startedAt)}\n`,
  );
}

function offTerminal(): UsageError {
  return new UsageError('destroy needs -f (--force) when not run from a terminal');
}

/** Asks, after looking for unsaved work in the notebook when there is one. */
async function confirmDestroy(f: Factory, api: BilboApi, cluster: Cluster): Promise<void> {
  let question = `Destroy cluster ${cluster.name}?`;
  if (hasNotebook(cluster)) {
    f.io.stderr.write(`checking the notebook of ${cluster.name} for unsaved work...\n`);
    const outcome = await checkUnsavedWork(f, api, cluster);
    f.io.stderr.write(describeOutcome(cluster.name, outcome));
    if (outcome.kind !== 'clean') question = `Destroy cluster ${cluster.name} anyway?`;
  }
  if (!(await f.prompter.confirm(question))) {
    throw new CancelledError(`cluster ${cluster.name} was not destroyed`);
  }
}

const FAILED_STATES: readonly CommandState[] = ['FAILED', 'TIMED_OUT'];

/** Whether the cluster's newest command failed or timed out, and a line that says so either way. */
async function lastCommandFailed(api: BilboApi, name: string): Promise<{ yes: boolean; why: string }> {
  const [last] = await api.listCommands(name);
  if (last === undefined) {
    return { yes: false, why: `not destroying cluster ${name}: no command has run on it` };
  }
  const what = `its last command, ${last.id} (${last.kind}), ${last.state === 'RUNNING' ? 'is still RUNNING' : `ended ${last.state}`}`;
  return FAILED_STATES.includes(last.state)
    ? { yes: true, why: `destroying cluster ${name}: ${what}` }
    : { yes: false, why: `not destroying cluster ${name}: ${what}` };
}
