/**
 * The readiness probe: GETs each URL it is given, at the same time, each
 * with a timeout, and hands back what answered. What the answers mean is
 * the cluster kind's business (lambdas/domain/kinds). "Not up yet" is an
 * answer (`undefined`), never an error: retries and deadlines belong to
 * the caller.
 */
import type { HttpAnswer, ProbeRequest, ReadinessProbe } from '../../domain/ports.ts';

export interface HttpReadinessProbeOptions {
  /** Per request. @default 1000 */
  timeoutMs?: number;
  /** A longer body is no answer: the probe reads status pages, not data. @default 8 MiB */
  maxBodyBytes?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export class HttpReadinessProbe implements ReadinessProbe {
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly fetch: typeof fetch;

  constructor(options: HttpReadinessProbeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async look(
    requests: Readonly<Record<string, ProbeRequest>>,
  ): Promise<Record<string, HttpAnswer | undefined>> {
    const entries = await Promise.all(
      Object.entries(requests).map(async ([name, request]) => [name, await this.get(request)] as const),
    );
    return Object.fromEntries(entries);
  }

  private async get(request: ProbeRequest): Promise<HttpAnswer | undefined> {
    const { url, headers } = typeof request === 'string' ? { url: request, headers: {} } : request;
    try {
      const response = await this.fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await response.text();
      if (Buffer.byteLength(body) > this.maxBodyBytes) return undefined;
      return { status: response.status, body };
    } catch {
      return undefined;
    }
  }
}
