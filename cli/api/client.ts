import { escapeControlCharacters } from '../../schemas/printable.ts';
import type {
  Cluster,
  ClusterEvent,
  CommandOutput,
  CommandRecord,
  CreateClusterRequest,
  NotebookLink,
  Plan,
  StartCommandRequest,
  Sweep,
} from '../../schemas/types.generated.ts';
import { ApiRequestError, AuthError } from '../errors.ts';
import type { HttpMethod, HttpResponse, RequestOptions, SignedHttp } from './http.ts';
import { pathOf } from './http.ts';

/** The bilbo API, one method per route. Every non-2xx answer throws. */
export interface BilboApi {
  createCluster(request: CreateClusterRequest): Promise<Cluster>;
  plan(request: CreateClusterRequest): Promise<Plan>;
  listClusters(options?: { all?: boolean }): Promise<Cluster[]>;
  getCluster(name: string): Promise<Cluster>;
  destroyCluster(name: string): Promise<Cluster>;
  /** Restarts a READY cluster's services (not its notebook): answers the RESTARTING record. */
  restartCluster(name: string): Promise<Cluster>;
  /** The URL that opens a READY cluster's notebook, logged in (owner and admins only). */
  notebookLink(name: string): Promise<NotebookLink>;
  /** Stops a READY cluster's machines: answers the PAUSING record. */
  pauseCluster(name: string): Promise<Cluster>;
  /** Starts a PAUSED cluster's machines again: answers the RESUMING record. */
  resumeCluster(name: string): Promise<Cluster>;
  /**
   * Oldest first; only those after the event id `after` when given. With
   * `waitSeconds`, the API holds the request until there is one (long
   * polling), answering none when the time is up.
   */
  events(name: string, options?: { after?: string; waitSeconds?: number }): Promise<ClusterEvent[]>;
  /** Starts a command on the cluster's instances; it is RUNNING when this returns. */
  startCommand(name: string, request: StartCommandRequest): Promise<CommandRecord>;
  /**
   * The command and its output since `offset` (a cursor from the last
   * answer's `next`; absent: from the start). With `wait`, the API holds the
   * request up to that many seconds for new output or the end. The output is
   * passed on as the command wrote it, control characters included: it is
   * the caller's own command's, and pipes need it byte for byte.
   */
  getCommandOutput(
    name: string,
    id: string,
    options?: { offset?: string; wait?: number },
  ): Promise<CommandOutput>;
  cancelCommand(name: string, id: string): Promise<CommandRecord>;
  /** Newest first. */
  listCommands(name: string): Promise<CommandRecord[]>;
  /** Starts one sweep of the reaper now (admins only; a dry run changes nothing): answers it RUNNING. */
  reap(options?: { dryRun?: boolean }): Promise<Sweep>;
  /** How the sweep `reap` started goes: its report once it succeeded. */
  getSweep(id: string): Promise<Sweep>;
}

export function createApiClient(http: SignedHttp): BilboApi {
  /** The answer's JSON as it came, for the few fields printed as they are. */
  const callRaw = async (method: HttpMethod, path: string, options?: RequestOptions): Promise<unknown> => {
    const answer = await http.request(method, path, options);
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    throw toApiError({ ...answer, json: printableCopy(answer.json) }, http.endpoint);
  };
  // Whatever another user wrote reaches this terminal as text, never as escape sequences.
  const call = async (method: HttpMethod, path: string, options?: RequestOptions): Promise<unknown> =>
    printableCopy(await callRaw(method, path, options));

  return {
    async createCluster(request) {
      return asObject<Cluster>(await call('POST', '/clusters', { body: request }), 'cluster');
    },
    async plan(request) {
      return asObject<Plan>(await call('POST', '/plan', { body: request, idempotent: true }), 'plan');
    },
    async listClusters({ all = false } = {}) {
      const body = asObject<{ clusters?: unknown }>(
        await call('GET', '/clusters', { query: { all: all ? 'true' : undefined } }),
        'cluster list',
      );
      return asArray<Cluster>(body.clusters, 'clusters');
    },
    async getCluster(name) {
      return asObject<Cluster>(await call('GET', pathOf('clusters', name)), 'cluster');
    },
    async destroyCluster(name) {
      return asObject<Cluster>(await call('DELETE', pathOf('clusters', name)), 'cluster');
    },
    async restartCluster(name) {
      return asObject<Cluster>(await call('POST', pathOf('clusters', name, 'restart')), 'cluster');
    },
    async notebookLink(name) {
      return asObject<NotebookLink>(await call('GET', pathOf('clusters', name, 'notebook')), 'notebook link');
    },
    async reap({ dryRun = false } = {}) {
      return asObject<Sweep>(
        await call('POST', '/reap', { query: { dryRun: dryRun ? 'true' : undefined } }),
        'sweep',
      );
    },
    async getSweep(id) {
      return asObject<Sweep>(await call('GET', pathOf('reap', id)), 'sweep');
    },
    async pauseCluster(name) {
      return asObject<Cluster>(await call('POST', pathOf('clusters', name, 'pause')), 'cluster');
    },
    async resumeCluster(name) {
      return asObject<Cluster>(await call('POST', pathOf('clusters', name, 'resume')), 'cluster');
    },
    async events(name, { after, waitSeconds } = {}) {
      const wait = waitSeconds === undefined ? undefined : String(waitSeconds);
      const body = asObject<{ events?: unknown }>(
        await call('GET', pathOf('clusters', name, 'events'), { query: { after, wait } }),
        'event list',
      );
      return asArray<ClusterEvent>(body.events, 'events');
    },
    async startCommand(name, request) {
      return asObject<CommandRecord>(
        await call('POST', pathOf('clusters', name, 'commands'), { body: request }),
        'command',
      );
    },
    async getCommandOutput(name, id, { offset, wait } = {}) {
      const body = asObject<CommandOutput>(
        await callRaw('GET', pathOf('clusters', name, 'commands', id), {
          query: { offset, wait: wait === undefined ? undefined : String(wait) },
        }),
        'command output',
      );
      const output = asArray<CommandOutput['output'][number]>(body.output, 'output');
      // Without a cursor, the next request would repeat the output from the start.
      if (typeof body.next !== 'string' || body.next === '') {
        throw new ApiRequestError(200, 'BAD_RESPONSE', 'the bilbo API answered without "next"');
      }
      return {
        command: asObject<CommandRecord>(printableCopy(body.command), 'command'),
        output: output.map((o) => ({
          instanceId: escapeControlCharacters(String(o.instanceId)),
          stdout: String(o.stdout ?? ''),
          stderr: String(o.stderr ?? ''),
        })),
        next: body.next,
      };
    },
    async cancelCommand(name, id) {
      return asObject<CommandRecord>(
        await call('DELETE', pathOf('clusters', name, 'commands', id), { idempotent: true }),
        'command',
      );
    },
    async listCommands(name) {
      const body = asObject<{ commands?: unknown }>(
        await call('GET', pathOf('clusters', name, 'commands')),
        'command list',
      );
      return asArray<CommandRecord>(body.commands, 'commands');
    },
  };
}

/** The value with every control character in its strings (keys too) written out as `\u001b`. */
export function printableCopy(value: unknown): unknown {
  if (typeof value === 'string') return escapeControlCharacters(value);
  if (Array.isArray(value)) return value.map(printableCopy);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [escapeControlCharacters(key), printableCopy(item)]),
  );
}

/** Maps a 4xx/5xx answer to the CLI's error family. */
export function toApiError(response: HttpResponse, endpoint: string): Error {
  const body = (typeof response.json === 'object' && response.json !== null ? response.json : {}) as Record<
    string,
    unknown
  >;
  // API Gateway's own rejections say { "message": ... } with no code.
  const answer =
    typeof body.message === 'string' && body.message !== ''
      ? body.message
      : response.text.trim() || `HTTP ${response.status}`;
  const message =
    response.attempts === undefined ? answer : `${answer} (gave up after ${response.attempts} attempts)`;
  // Signed and known, but not the cluster's owner nor an admin: the message names the owner.
  if (response.status === 403 && body.code !== 'NOT_OWNER') {
    return new AuthError(
      `the bilbo API refused the request (403: ${message}): check your AWS credentials ` +
        `and that BILBO_ENDPOINT (${endpoint}) points at the right deployment`,
    );
  }
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  const field = typeof body.field === 'string' ? body.field : undefined;
  return new ApiRequestError(response.status, code, message, field);
}

function asObject<T>(value: unknown, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiRequestError(200, 'BAD_RESPONSE', `the bilbo API answered without a ${what}`);
  }
  return value as T;
}

function asArray<T>(value: unknown, what: string): T[] {
  if (!Array.isArray(value)) {
    throw new ApiRequestError(200, 'BAD_RESPONSE', `the bilbo API answered without "${what}"`);
  }
  return value as T[];
}
