/**
 * A ServiceRestarter that does nothing but keep count, answering progress
 * as a test scripts it: done at once, never done, or a failure on one
 * instance. Tests may also make `restart` itself throw.
 */
import type {
  ServiceRestarter,
  ServiceRestartProgress,
  ServiceRestartRequest,
  ServiceRestartTicket,
} from '../../lambdas/domain/ports.ts';

export type FakeRestartBehaviour =
  | { kind: 'done' }
  | { kind: 'never' }
  | { kind: 'fails'; failure: string }
  | { kind: 'throws'; error: Error };

export class FakeServiceRestarter implements ServiceRestarter {
  readonly requests: ServiceRestartRequest[] = [];
  readonly looks: ServiceRestartTicket[] = [];
  behaviour: FakeRestartBehaviour = { kind: 'done' };

  async restart(request: ServiceRestartRequest): Promise<ServiceRestartTicket> {
    if (this.behaviour.kind === 'throws') throw this.behaviour.error;
    this.requests.push(request);
    return { id: `restart-${this.requests.length}` };
  }

  async progress(ticket: ServiceRestartTicket): Promise<ServiceRestartProgress> {
    this.looks.push(ticket);
    switch (this.behaviour.kind) {
      case 'never':
        return { done: false };
      case 'fails':
        return { done: true, failure: this.behaviour.failure };
      default:
        return { done: true };
    }
  }

  /** The roles restarted, in order. */
  roles(): string[] {
    return this.requests.map((request) => request.role);
  }
}
