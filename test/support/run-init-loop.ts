import { type RunInitDeps, runInit } from '../../lambdas/domain/workflow/run-init.ts';
import type { FakeClock } from './fake-clock.ts';

/**
 * Drives the create's init step as its poll loop does: look, wait what it
 * says (on the fake clock), look again from where it left off, until done.
 * A step that never ends fails the test after `looks` looks.
 */
export async function runInitToTheEnd(
  clusterId: string,
  deps: RunInitDeps,
  clock: FakeClock,
  looks: number,
): Promise<void> {
  let position: number | undefined;
  for (let look = 0; look < looks; look++) {
    const answer = await runInit({ clusterId, ...(position === undefined ? {} : { position }) }, deps);
    if (answer.done) return;
    position = answer.position;
    clock.advance(answer.waitSeconds * 1000);
  }
  throw new Error(`init not done after ${looks} looks`);
}
