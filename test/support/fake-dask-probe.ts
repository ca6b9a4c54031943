/**
 * A readiness probe for clusters whose machines are mocks (EC2 behind a
 * stateful mock): it answers the Dask kind's URLs as a real scheduler,
 * dashboard and Jupyter server would, once `isUp` says the machine behind
 * a URL has booted, with `workers` workers joined.
 */
import type { HttpAnswer, ProbeRequest, ReadinessProbe } from '../../lambdas/domain/ports.ts';

export interface FakeDaskProbe extends ReadinessProbe {
  /** Every URL it was asked for, in order. */
  readonly asked: string[];
}

export function fakeDaskProbe(isUp: (url: string) => boolean, workers: number): FakeDaskProbe {
  const asked: string[] = [];
  const identity = JSON.stringify({
    type: 'Scheduler',
    workers: Object.fromEntries(Array.from({ length: workers }, (_, i) => [`tcp://10.1.0.${i}:40000`, {}])),
  });
  const answer = (request: ProbeRequest): HttpAnswer | undefined => {
    const { url, headers } = typeof request === 'string' ? { url: request, headers: {} } : request;
    if (!isUp(url)) return undefined;
    if (url.endsWith('/health')) return { status: 200, body: 'ok' };
    if (url.endsWith('/json/identity.json')) return { status: 200, body: identity };
    if (url.endsWith('/api/status')) {
      // Jupyter answers its status only to a request with a token.
      return (headers as Record<string, string>).Authorization?.startsWith('token ')
        ? { status: 200, body: JUPYTER_STATUS }
        : { status: 403, body: '{"message": "Forbidden", "reason": null}' };
    }
    return { status: 404, body: '' };
  };
  return {
    asked,
    async look(requests) {
      asked.push(
        ...Object.values(requests).map((request) => (typeof request === 'string' ? request : request.url)),
      );
      return Object.fromEntries(Object.entries(requests).map(([name, request]) => [name, answer(request)]));
    },
  };
}

const JUPYTER_STATUS = JSON.stringify({
  connections: 0,
  kernels: 0,
  last_activity: '2026-12-07T09:14:33.026977Z',
  started: '2026-12-07T09:14:33.026977Z',
});

/** The service's base URL (`http://host:port`) of a URL the probe was asked. */
export function serviceOf(url: string): string {
  return new URL(url).origin;
}
