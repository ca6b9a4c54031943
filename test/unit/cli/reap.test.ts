import { describe, expect, it } from 'vitest';
import { REAP_WAIT_MS, reapRun, reapText } from '../../../cli/commands/reap.ts';
import { CancelledError, CommandFailedError } from '../../../cli/errors.ts';
import { aSweepReport } from '../../support/sweep-reports.ts';
import { fakeFactory, SWEEP_ID, scriptedApi } from './fakes.ts';

describe('bilbo reap', () => {
  it('starts one sweep, waits for its report, and prints what it did, then the counts', async () => {
    const api = scriptedApi();
    const fake = fakeFactory({ api });
    await reapRun({ dryRun: false, json: false }, fake.f);
    expect(api.reap).toHaveBeenCalledWith({ dryRun: false });
    expect(api.getSweep).toHaveBeenCalledWith(SWEEP_ID);
    expect(fake.stdout.text).toBe(
      'destroyed analytics: reaped: idle for 61 min\n' +
        '2 checked, 1 idle, 1 destroyed, 0 paused, 0 settled, 0 unknown, 0 orphans removed in 1.3s\n',
    );
  });

  it('says what a dry run would do, and that nothing changed', async () => {
    const api = scriptedApi();
    const fake = fakeFactory({ api });
    await reapRun({ dryRun: true, json: false }, fake.f);
    expect(api.reap).toHaveBeenCalledWith({ dryRun: true });
    expect(fake.stdout.text).toMatch(
      /^would destroy analytics: reaped: idle for 61 min\ndry run, nothing changed: /,
    );
  });

  it('prints the report as JSON with --json', async () => {
    const fake = fakeFactory({ api: scriptedApi() });
    await reapRun({ dryRun: false, json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toMatchObject({ destroyed: 1, actions: [{ cluster: 'analytics' }] });
  });

  it('shows its progress on stderr, and looks less often as the sweep goes on', async () => {
    const api = scriptedApi({ sweep: { looks: 5 } });
    const fake = fakeFactory({ api });
    await reapRun({ dryRun: false, json: true }, fake.f);
    expect(fake.stderr.text).toBe(`[  0.0s] sweeping: ${SWEEP_ID}\n`);
    expect(api.getSweep).toHaveBeenCalledTimes(6);
    expect(fake.sleeps).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('fails with the reason when the sweep ended without a report', async () => {
    const ending = { id: SWEEP_ID, status: 'FAILED' as const, error: 'Error: the table is gone' };
    const fake = fakeFactory({ api: scriptedApi({ sweep: { ending } }) });
    await expect(reapRun({ dryRun: false, json: false }, fake.f)).rejects.toThrow(
      new CommandFailedError(
        `sweep ${SWEEP_ID} ended FAILED: Error: the table is gone; the next sweep tries again`,
      ),
    );
    expect(fake.stdout.text).toBe('');
  });

  it("gives up past the sweep's own timeout and a margin, saying the sweep goes on", async () => {
    const fake = fakeFactory({ api: scriptedApi({ sweep: { looks: Number.POSITIVE_INFINITY } }) });
    await expect(reapRun({ dryRun: false, json: false }, fake.f)).rejects.toThrow(
      new CommandFailedError(
        `no report after ${REAP_WAIT_MS / 1000}.0s; the sweep ${SWEEP_ID} goes on: what it does is an event on each cluster it acts on`,
      ),
    );
    const waited = fake.sleeps.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(REAP_WAIT_MS);
    expect(waited).toBeLessThan(REAP_WAIT_MS + 10_000);
  });

  it('stops waiting on Ctrl-C, not the sweep', async () => {
    const api = scriptedApi({ sweep: { looks: 3 } });
    const fake = fakeFactory({ api });
    api.getSweep.mockImplementationOnce(async (id: string) => {
      fake.interrupt();
      return { id, status: 'RUNNING' };
    });
    await expect(reapRun({ dryRun: false, json: false }, fake.f)).rejects.toThrow(CancelledError);
  });

  it('says how many actions the report left out', () => {
    expect(reapText({ ...aSweepReport(), actionsNotListed: 3 })).toMatch(
      /idle for 61 min\n… and 3 more \(each is an event on its cluster\)\n2 checked/,
    );
  });

  it('names an orphan it removed by its cluster, and counts it', () => {
    const report = {
      startedAt: '2026-01-01T00:00:00.000Z',
      dryRun: false,
      checked: 0,
      idle: 0,
      destroyed: 0,
      paused: 0,
      failed: 0,
      unknown: 0,
      orphansRemoved: 1,
      errors: 0,
      durationMs: 200,
      actions: [
        { cluster: 'c-00000000000000aa', action: 'remove' as const, reason: 'reaped: orphan worker i-1' },
      ],
    };
    expect(reapText(report)).toMatch(
      /^removed an orphan of c-00000000000000aa: reaped: orphan worker i-1\n.*, 1 orphans removed in /,
    );
    expect(reapText({ ...report, dryRun: true })).toMatch(/^would remove an orphan of c-00000000000000aa: /);
  });
});
