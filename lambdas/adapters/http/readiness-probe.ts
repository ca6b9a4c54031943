/**
 * Looks once at a Dask scheduler's dashboard: `/health` says whether it is
 * up, `/json/identity.json` lists the workers that joined; and, when asked,
 * at a notebook's Jupyter server (`/api`). Both exist in
 * distributed 2022.12.1 without bokeh. "Not up yet" is an answer, never an
 * error: retries and deadlines belong to the caller.
 */
import type { ReadinessObservation, ReadinessProbe, ReadinessTarget } from '../../domain/ports.ts';

export interface HttpReadinessProbeOptions {
  /** Per request. @default 1000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export class HttpReadinessProbe implements ReadinessProbe {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: HttpReadinessProbeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async observe(target: ReadinessTarget): Promise<ReadinessObservation> {
    const notebook = target.notebookUrl ? { notebookUp: await this.jupyterAnswers(target.notebookUrl) } : {};
    const base = target.dashboardUrl.replace(/\/+$/, '');
    const health = await this.get(`${base}/health`);
    if (health?.status !== 200 || health.body.trim() !== 'ok') {
      return { dashboardUp: false, workersJoined: 0, ...notebook };
    }
    const identity = await this.get(`${base}/json/identity.json`);
    return {
      dashboardUp: true,
      workersJoined: identity?.status === 200 ? countWorkers(identity.body) : 0,
      ...notebook,
    };
  }

  /** Jupyter Server answers `GET /api` with its version, without a token. */
  private async jupyterAnswers(notebookUrl: string): Promise<boolean> {
    const answer = await this.get(`${notebookUrl.replace(/\/+$/, '')}/api`);
    if (answer?.status !== 200) return false;
    try {
      return typeof (JSON.parse(answer.body) as { version?: unknown }).version === 'string';
    } catch {
      return false;
    }
  }

  /** The status and body, or undefined when there is no answer in time. */
  private async get(url: string): Promise<{ status: number; body: string } | undefined> {
    try {
      const response = await this.fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      return { status: response.status, body: await response.text() };
    } catch {
      return undefined;
    }
  }
}

function countWorkers(body: string): number {
  try {
    const identity: unknown = JSON.parse(body);
    if (typeof identity !== 'object' || identity === null) return 0;
    const workers = (identity as { workers?: unknown }).workers;
    return typeof workers === 'object' && workers !== null ? Object.keys(workers).length : 0;
  } catch {
    return 0;
  }
}
