import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrowserSettings, openInBrowser } from '../../../cli/browser.ts';
import { dashboardRun } from '../../../cli/commands/dashboard.ts';
import { ClusterStateError } from '../../../cli/errors.ts';
import { type FakeBrowsers, fakeBrowsers } from './fake-browsers.ts';
import { aCluster, aPlan, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

const DASHBOARD = 'http://10.0.0.5:8787/status';
const run = (fake: ReturnType<typeof fakeFactory>, flags: { url?: boolean; json?: boolean } = {}) =>
  dashboardRun({ name: 'analytics', url: flags.url ?? false, json: flags.json ?? false }, fake.f);

/** A factory whose browser is the real launcher, on Linux with `env` only (the browsers' environment too). */
function withRealBrowser(cluster: ReturnType<typeof readyCluster>, env: BrowserSettings['env']) {
  return fakeFactory({
    api: scriptedApi({ states: [cluster] }),
    env,
    overrides: {
      // Long enough that each fake browser settles by exiting, whatever the machine's load.
      openBrowser: (url, options = {}) =>
        openInBrowser(url, { ...options, env, platform: 'linux' }, { settleMs: 30_000 }),
    },
  });
}

describe('bilbo dashboard', () => {
  it('opens the dashboard of a READY cluster, naming the browser on stderr and printing nothing', async () => {
    const fake = fakeFactory({ api: scriptedApi({ states: [readyCluster()] }) });
    await run(fake);
    expect(fake.opened).toEqual([DASHBOARD]);
    expect(fake.stdout.text).toBe('');
    expect(fake.stderr.text).toBe(`opened ${DASHBOARD} with fake-browser\n`);
  });

  it('prints the URL only with -u', async () => {
    const fake = fakeFactory({ api: scriptedApi({ states: [readyCluster()] }) });
    await run(fake, { url: true });
    expect(fake.stdout.text).toBe(`${DASHBOARD}\n`);
    expect(fake.stderr.text).toBe('');
    expect(fake.opened).toEqual([]);
  });

  it('prints {url, opened, browser} with --json, and {url, opened: false, reason} with -u --json', async () => {
    const opened = fakeFactory({ api: scriptedApi({ states: [readyCluster()] }) });
    await run(opened, { json: true });
    expect(JSON.parse(opened.stdout.text)).toEqual({ url: DASHBOARD, opened: true, browser: 'fake-browser' });

    const urlOnly = fakeFactory({ api: scriptedApi({ states: [readyCluster()] }) });
    await run(urlOnly, { url: true, json: true });
    expect(JSON.parse(urlOnly.stdout.text)).toEqual({
      url: DASHBOARD,
      opened: false,
      reason: 'asked for the URL only',
    });
    expect(urlOnly.opened).toEqual([]);
  });

  it('fails naming the state when the cluster is not READY', async () => {
    const fake = fakeFactory({ api: scriptedApi({ states: [aCluster({ state: 'CREATING' })] }) });
    const opening = run(fake);
    await expect(opening).rejects.toThrow(ClusterStateError);
    await expect(opening).rejects.toThrow(/it is CREATING/);
    expect(fake.opened).toEqual([]);
  });

  describe('with real browser programs', () => {
    let browsers: FakeBrowsers;
    beforeEach(async () => {
      browsers = await fakeBrowsers();
    });
    afterEach(async () => {
      await browsers.cleanup();
    });

    it("opens with the profile's webbrowser over $BROWSER", async () => {
      const chosen = await browsers.make('chosen');
      const fromEnv = await browsers.make('from-env');
      const cluster = readyCluster({ plan: aPlan({ webbrowser: chosen.path }) });
      const fake = withRealBrowser(cluster, { BROWSER: `"${fromEnv.path}" %s` });

      await run(fake);

      expect(await chosen.argv()).toEqual([DASHBOARD]);
      expect(await fromEnv.argv()).toBeUndefined();
      expect(fake.stdout.text).toBe('');
      expect(fake.stderr.text).toBe(
        `opened ${DASHBOARD} with ${JSON.stringify(chosen.path)} from the profile's webbrowser\n`,
      );
    });

    it('opens with $BROWSER when the profile names no webbrowser', async () => {
      const fromEnv = await browsers.make('from-env');
      const fake = withRealBrowser(readyCluster(), { BROWSER: `"${fromEnv.path}" --new-tab %s` });

      await run(fake);

      expect(await fromEnv.argv()).toEqual(['--new-tab', DASHBOARD]);
    });

    it('prints the URL and why when there is no display and $BROWSER is unset, and succeeds', async () => {
      const fake = withRealBrowser(readyCluster(), {});

      await run(fake);

      expect(fake.stdout.text).toBe(`${DASHBOARD}\n`);
      expect(fake.stderr.text).toBe(
        'no browser: $BROWSER is unset and there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set); ' +
          'open this URL yourself\n',
      );
    });

    it("prints the URL and why when the profile's webbrowser is missing, and succeeds", async () => {
      const cluster = readyCluster({ plan: aPlan({ webbrowser: '/nonexistent/firefox' }) });
      const fake = withRealBrowser(cluster, {});

      await run(fake);

      expect(fake.stdout.text).toBe(`${DASHBOARD}\n`);
      expect(fake.stderr.text).toBe(
        `no browser: "/nonexistent/firefox" from the profile's webbrowser could not start: no such program (ENOENT); ` +
          'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set) for xdg-open; open this URL yourself\n',
      );
    });

    it('prints {url, opened: false, reason} with --json when no browser opens', async () => {
      const fake = withRealBrowser(readyCluster(), {});

      await run(fake, { json: true });

      expect(JSON.parse(fake.stdout.text)).toEqual({
        url: DASHBOARD,
        opened: false,
        reason: '$BROWSER is unset and there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)',
      });
      expect(fake.stderr.text).toBe('');
    });
  });
});
