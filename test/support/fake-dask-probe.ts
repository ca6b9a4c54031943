/**
 * A readiness probe for clusters whose machines are mocks (EC2 behind a
 * stateful mock): it answers the Dask kind's URLs as a real scheduler,
 * dashboard and Jupyter server would, once `isUp` says the machine behind
 * a URL has booted, with `workers` workers joined.
 */
import type { HttpAnswer, ReadinessProbe } from '../../lambdas/domain/ports.ts';

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
  const answer = (url: string): HttpAnswer | undefined => {
    if (!isUp(url)) return undefined;
    if (url.endsWith('/health')) return { status: 200, body: 'ok' };
    if (url.endsWith('/json/identity.json')) return { status: 200, body: identity };
    if (url.endsWith('/api')) return { status: 200, body: '{"version":"2.14.2"}' };
    return { status: 404, body: '' };
  };
  return {
    asked,
    async look(urls) {
      asked.push(...Object.values(urls));
      return Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, answer(url)]));
    },
  };
}

/** The service's base URL (`http://host:port`) of a URL the probe was asked. */
export function serviceOf(url: string): string {
  return new URL(url).origin;
}
