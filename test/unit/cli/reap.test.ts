import { describe, expect, it } from 'vitest';
import { reapRun, reapText } from '../../../cli/commands/reap.ts';
import { fakeFactory, scriptedApi } from './fakes.ts';

describe('bilbo reap', () => {
  it('runs one sweep and prints what it did, then the counts', async () => {
    const api = scriptedApi();
    const fake = fakeFactory({ api });
    await reapRun({ dryRun: false, json: false }, fake.f);
    expect(api.reap).toHaveBeenCalledWith({ dryRun: false });
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
