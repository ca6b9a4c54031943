import { describe, expect, it } from 'vitest';
import { lsRun } from '../../../cli/commands/ls.ts';
import { aCluster, aPlan, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

const clusters = () => [
  readyCluster({ workersJoined: 3 }),
  aCluster({
    id: 'c-0002',
    name: 'gpu',
    owner: 'bob',
    dashboardUrl: 'http://10.0.0.9:8787/status',
    createdAt: '2026-11-28T09:00:00.000Z',
    plan: aPlan({ cluster: 'gpu', totalWorkers: 8, wantedWorkers: 8 }),
  }),
];

describe('bilbo ls', () => {
  it('renders NAME, STATE, OWNER, WORKERS, AGE and DASHBOARD columns, the dashboard only when READY', async () => {
    const api = scriptedApi();
    api.listClusters.mockResolvedValue(clusters());
    const fake = fakeFactory({ api });
    await lsRun({ all: false, json: false }, fake.f);
    const lines = fake.stdout.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'STATE', 'OWNER', 'WORKERS', 'AGE', 'DASHBOARD']);
    expect(lines[1]!.split(/\s+/)).toEqual([
      'analytics',
      'READY',
      'arn:aws:iam::123456789012:user/alice',
      '3/4',
      '1m',
      'http://10.0.0.5:8787/status',
    ]);
    expect(lines[2]!.split(/\s+/)).toEqual(['gpu', 'CREATING', 'bob', '0/8', '3h', '-']);
  });

  it('aligns the columns', async () => {
    const api = scriptedApi();
    api.listClusters.mockResolvedValue(clusters());
    const fake = fakeFactory({ api });
    await lsRun({ all: false, json: false }, fake.f);
    const lines = fake.stdout.text.split('\n');
    expect(lines[1]!.indexOf('READY')).toBe(lines[0]!.indexOf('STATE'));
    expect(lines[2]!.indexOf('CREATING')).toBe(lines[0]!.indexOf('STATE'));
  });

  it('asks for ended clusters with -a', async () => {
    const api = scriptedApi();
    await lsRun({ all: true, json: false }, fakeFactory({ api }).f);
    expect(api.listClusters).toHaveBeenCalledWith({ all: true });
  });

  it('prints the list as JSON with --json', async () => {
    const api = scriptedApi();
    api.listClusters.mockResolvedValue(clusters());
    const fake = fakeFactory({ api });
    await lsRun({ all: false, json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual(clusters());
  });

  it('prints nothing on stdout, and a hint on stderr, when there are no clusters', async () => {
    const fake = fakeFactory();
    await lsRun({ all: false, json: false }, fake.f);
    expect(fake.stdout.text).toBe('');
    expect(fake.stderr.text).toContain('no live clusters');
  });
});
