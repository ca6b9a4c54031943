import type { Cluster } from '../../schemas/types.generated.ts';
import { buildCreateRequest, type ProfileRequestOptions } from '../cluster-request.ts';
import { ClusterFailedError, ClusterStateError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { followCluster } from '../follow.ts';
import { colorState, colors, formatSeconds, renderFields, toJson, wantedWorkers } from '../output.ts';
import { createProgress } from '../progress.ts';

export interface CreateOptions extends ProfileRequestOptions {
  /** Follow the creation until READY or FAILED (false with --no-wait). */
  wait: boolean;
  /** What to open in the browser once READY (`-n`, `-d`). */
  open: { notebook: boolean; dashboard: boolean };
  json: boolean;
}

export async function createRun(options: CreateOptions, f: Factory): Promise<void> {
  const startedAt = f.now();
  const { request } = await buildCreateRequest(options, f.home());
  const api = await f.api();
  const created = await api.createCluster(request);
  const name = created.name;

  if (!options.wait) {
    f.io.stdout.write(options.json ? toJson(created) : `${name}\t${created.state}\n`);
    f.io.stderr.write(`cluster ${name} is being created; watch it with \`bilbo desc ${name}\`\n`);
    return;
  }

  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  let cluster: Cluster;
  try {
    cluster = await followCluster(f, api, name, {
      until: 'READY',
      onEvent: (event) => progress.update(event.message),
      interruptedMessage: `stopped following: cluster ${name} keeps being created; watch it with \`bilbo desc ${name}\``,
    });
  } catch (error) {
    progress.stop();
    throw error;
  }

  if (cluster.state === 'FAILED') {
    progress.fail();
    throw new ClusterFailedError(name, cluster.failure?.step ?? 'unknown', failureText(cluster));
  }
  if (cluster.state !== 'READY') {
    progress.fail();
    throw new ClusterStateError(`cluster ${name} ended ${cluster.state} before it became READY`);
  }
  progress.succeed();
  await printReady(cluster, startedAt, options, f);
  await openWhenReady(cluster, options.open, f);
}

async function printReady(
  cluster: Cluster,
  startedAt: number,
  options: CreateOptions,
  f: Factory,
): Promise<void> {
  if (options.json) {
    f.io.stdout.write(toJson(cluster));
    return;
  }
  const c = colors(f.io.stdoutColor);
  f.io.stdout.write(
    renderFields(
      [
        ['name', cluster.name],
        ['state', colorState(cluster.state, c)],
        ['scheduler', cluster.schedulerAddress],
        ['dashboard', cluster.dashboardUrl],
        ['notebook', cluster.notebookUrl],
        ['workers', `${cluster.workersJoined ?? 0}/${wantedWorkers(cluster)} joined`],
        ['elapsed', formatSeconds(f.now() - startedAt)],
      ],
      c,
    ),
  );
}

/**
 * Opens what `-n` and `-d` asked for, with the browser the profile names.
 * What happened goes to stderr, so stdout stays the result (and valid JSON);
 * a browser that cannot start does not fail a create that succeeded.
 */
async function openWhenReady(cluster: Cluster, open: CreateOptions['open'], f: Factory): Promise<void> {
  const api = await f.api();
  const urls: [string, string | undefined][] = [];
  if (open.dashboard) urls.push(['dashboard', cluster.dashboardUrl]);
  if (open.notebook) {
    urls.push(['notebook', cluster.notebookUrl ? (await api.notebookLink(cluster.name)).url : undefined]);
  }
  const webbrowser = cluster.plan.webbrowser;
  for (const [what, url] of urls) {
    if (url === undefined) {
      f.io.stderr.write(`cluster ${cluster.name} has no ${what} to open\n`);
      continue;
    }
    const outcome = await f.openBrowser(url, webbrowser === undefined ? {} : { webbrowser });
    f.io.stderr.write(
      outcome.opened
        ? `opened the ${what} with ${outcome.browser.description}\n`
        : `no browser for the ${what}: ${outcome.reason}; open ${url} yourself\n`,
    );
  }
}

function failureText(cluster: Cluster): string {
  const failure = cluster.failure;
  if (failure === undefined) return 'no reason recorded';
  return failure.error ? `${failure.message} (${failure.error})` : failure.message;
}
