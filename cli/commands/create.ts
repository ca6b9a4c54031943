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

function failureText(cluster: Cluster): string {
  const failure = cluster.failure;
  if (failure === undefined) return 'no reason recorded';
  return failure.error ? `${failure.message} (${failure.error})` : failure.message;
}
