import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BrowserSettings,
  browserEntryArgv,
  browserListEntries,
  chooseBrowsers,
  openInBrowser,
} from '../../../cli/browser.ts';
import { type FakeBrowsers, fakeBrowsers } from './fake-browsers.ts';

const URL_ = 'http://10.0.0.5:8787/status';
const linux = (env: Record<string, string> = {}, webbrowser?: string): BrowserSettings => ({
  env,
  platform: 'linux',
  ...(webbrowser === undefined ? {} : { webbrowser }),
});
const argvs = (settings: BrowserSettings, url = URL_) =>
  chooseBrowsers(url, settings).commands.map((c) => [c.command, ...c.args]);

describe('chooseBrowsers', () => {
  it("tries the profile's webbrowser, then each $BROWSER entry, then the platform opener", () => {
    const choice = chooseBrowsers(URL_, linux({ BROWSER: 'firefox:chromium', DISPLAY: ':0' }, '/opt/ff'));
    expect(choice.commands.map((c) => [c.source, c.command, ...c.args])).toEqual([
      ['profile', '/opt/ff', URL_],
      ['BROWSER', 'firefox', URL_],
      ['BROWSER', 'chromium', URL_],
      ['platform', 'xdg-open', URL_],
    ]);
    expect(choice.skipped).toEqual([]);
  });

  it('runs the webbrowser as one program whose path may hold spaces, the URL its only argument', () => {
    expect(argvs(linux({}, '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'))).toEqual([
      ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', URL_],
    ]);
  });

  it('ignores a blank webbrowser', () => {
    expect(argvs(linux({ DISPLAY: ':0' }, '  '))).toEqual([['xdg-open', URL_]]);
  });

  it('opens with open on macOS and rundll32 on Windows, with or without a display', () => {
    expect(argvs({ env: {}, platform: 'darwin' })).toEqual([['open', URL_]]);
    expect(argvs({ env: {}, platform: 'win32' })).toEqual([
      ['rundll32', 'url.dll,FileProtocolHandler', URL_],
    ]);
  });

  it('uses xdg-open with a Wayland display alone', () => {
    expect(argvs(linux({ WAYLAND_DISPLAY: 'wayland-0' }))).toEqual([['xdg-open', URL_]]);
  });

  it('says why there is no browser when $BROWSER is unset and DISPLAY and WAYLAND_DISPLAY are unset or empty', () => {
    expect(chooseBrowsers(URL_, linux({ DISPLAY: '', WAYLAND_DISPLAY: '' }))).toEqual({
      commands: [],
      skipped: ['$BROWSER is unset and there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)'],
    });
  });

  it('still tries $BROWSER without a display, and names xdg-open as what the display lacks', () => {
    expect(chooseBrowsers(URL_, linux({ BROWSER: 'w3m' }))).toMatchObject({
      commands: [{ command: 'w3m', args: [URL_] }],
      skipped: ['there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set) for xdg-open'],
    });
  });

  it('skips a $BROWSER entry whose quote is not closed, saying so, and tries the next', () => {
    expect(chooseBrowsers(URL_, linux({ BROWSER: '"/opt/my browser:firefox', DISPLAY: ':0' }))).toMatchObject(
      {
        commands: [{ command: 'firefox' }, { command: 'xdg-open' }],
        skipped: ['"\\"/opt/my browser" from $BROWSER has a quote that is not closed'],
      },
    );
  });
});

describe('browserListEntries', () => {
  it("splits $BROWSER on ':' and drops empty entries", () => {
    expect(browserListEntries('firefox::chromium --new-window: ', 'linux')).toEqual([
      'firefox',
      'chromium --new-window',
    ]);
    expect(browserListEntries(undefined, 'linux')).toEqual([]);
  });

  it("splits on ';' on Windows, so drive letters stay whole", () => {
    expect(browserListEntries('C:\\Program Files\\Mozilla Firefox\\firefox.exe;msedge', 'win32')).toEqual([
      'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
      'msedge',
    ]);
  });
});

describe('browserEntryArgv', () => {
  it('appends the URL to an entry without %s', () => {
    expect(browserEntryArgv('firefox --new-window', URL_)).toEqual(['firefox', '--new-window', URL_]);
  });

  it('puts the URL where %s stands, inside a word too, and appends nothing then', () => {
    expect(browserEntryArgv('chromium --app=%s --incognito', URL_)).toEqual([
      'chromium',
      `--app=${URL_}`,
      '--incognito',
    ]);
  });

  it('reads %% as a literal %, so %%s is no placeholder', () => {
    expect(browserEntryArgv('printer --format=100%% --tag=%%s %s', URL_)).toEqual([
      'printer',
      '--format=100%',
      '--tag=%s',
      URL_,
    ]);
    expect(browserEntryArgv('printer --tag=%%s', URL_)).toEqual(['printer', '--tag=%s', URL_]);
  });

  it('keeps quoted spaces in one word', () => {
    expect(browserEntryArgv(`"/opt/my browser/run" --profile 'Work Profile' %s`, URL_)).toEqual([
      '/opt/my browser/run',
      '--profile',
      'Work Profile',
      URL_,
    ]);
  });

  it('substitutes a URL holding $& and $1 literally', () => {
    const url = 'http://h/?a=$&b=$1';
    expect(browserEntryArgv('ff %s', url)).toEqual(['ff', url]);
  });

  it('is undefined for an unclosed quote', () => {
    expect(browserEntryArgv("ff 'oops %s", URL_)).toBeUndefined();
  });
});

describe('openInBrowser', () => {
  let browsers: FakeBrowsers;
  beforeEach(async () => {
    browsers = await fakeBrowsers();
  });
  afterEach(async () => {
    await browsers.cleanup();
  });

  // Long enough that each fake browser settles by exiting, whatever the machine's load.
  const patient = { settleMs: 30_000 };

  it('hands the browser the URL as one literal argument: ;, $(…), spaces, quotes and & untouched', async () => {
    const ff = await browsers.make('firefox');
    const pwned = join(browsers.dir, 'pwned');
    const redirected = join(browsers.dir, 'redirected');
    const url = `http://10.0.0.5:8787/status?a=1&b=2;echo hi $(touch '${pwned}') \`id\` "q" 'x' | cat > '${redirected}'`;

    const outcome = await openInBrowser(url, linux({}, ff.path), patient);

    expect(outcome).toMatchObject({ opened: true, browser: { source: 'profile' }, failures: [] });
    expect(await ff.argv()).toEqual([url]);
    expect(existsSync(pwned)).toBe(false);
    expect(existsSync(redirected)).toBe(false);
  });

  it('runs a $BROWSER entry with its quoted path and %s in a word', async () => {
    const ff = await browsers.make('firefox');
    const outcome = await openInBrowser(
      URL_,
      linux({ BROWSER: `"${ff.path}" --new-window --app=%s` }),
      patient,
    );

    expect(outcome).toMatchObject({ opened: true, browser: { source: 'BROWSER', command: ff.path } });
    expect(await ff.argv()).toEqual(['--new-window', `--app=${URL_}`]);
  });

  it('falls back from a missing webbrowser to $BROWSER, keeping why the webbrowser did not start', async () => {
    const ff = await browsers.make('firefox');
    const missing = join(browsers.dir, 'no-such-browser');

    const outcome = await openInBrowser(URL_, linux({ BROWSER: `"${ff.path}"` }, missing), patient);

    expect(outcome).toEqual({
      opened: true,
      browser: expect.objectContaining({ command: ff.path }),
      failures: [
        `${JSON.stringify(missing)} from the profile's webbrowser could not start: no such program (ENOENT)`,
      ],
    });
    expect(await ff.argv()).toEqual([URL_]);
  });

  it('goes on past a browser that exits with an error', async () => {
    const broken = await browsers.make('broken', { status: 3 });
    const ff = await browsers.make('firefox');

    const outcome = await openInBrowser(URL_, linux({ BROWSER: `"${broken.path}":"${ff.path}"` }), patient);

    expect(outcome).toMatchObject({
      opened: true,
      browser: { command: ff.path },
      failures: [`${JSON.stringify(`"${broken.path}"`)} from $BROWSER exited with status 3`],
    });
    expect(await broken.argv()).toEqual([URL_]);
  });

  it('opens nothing and says why when every browser is missing and there is no display', async () => {
    const missing = join(browsers.dir, 'gone');

    const outcome = await openInBrowser(
      URL_,
      linux({ BROWSER: 'bilbo-test-no-such-browser' }, missing),
      patient,
    );

    expect(outcome).toEqual({
      opened: false,
      reason:
        `${JSON.stringify(missing)} from the profile's webbrowser could not start: no such program (ENOENT); ` +
        '"bilbo-test-no-such-browser" from $BROWSER could not start: no such program (ENOENT); ' +
        'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set) for xdg-open',
    });
  });

  it('says xdg-open is missing when there is a display but no xdg-open', async () => {
    const outcome = await openInBrowser(URL_, linux({ DISPLAY: ':0', PATH: browsers.dir }), patient);
    expect(outcome).toEqual({ opened: false, reason: 'xdg-open could not start: no such program (ENOENT)' });
  });

  it('hands no browser anything that is not an http or https URL', async () => {
    const ff = await browsers.make('firefox');

    const outcome = await openInBrowser('--gpu-launcher=/bin/sh', linux({}, ff.path), patient);

    expect(outcome).toEqual({
      opened: false,
      reason: '"--gpu-launcher=/bin/sh" is not an http or https URL',
    });
    expect(await ff.argv()).toBeUndefined();
  });

  it('does not wait for a browser that keeps running: it is opened, and left running', async () => {
    const ff = await browsers.make('firefox', { linger: true });

    const outcome = await openInBrowser(URL_, linux({}, ff.path), { settleMs: 200 });

    expect(outcome).toMatchObject({ opened: true, browser: { command: ff.path } });
    const pid = await eventually(() => ff.pid());
    expect(() => process.kill(pid, 0)).not.toThrow();
  });
});

/** Polls `look` until it gives a value; gives up after a few seconds. */
async function eventually<T>(look: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; tries < 200; tries++) {
    const value = await look();
    if (value !== undefined) return value;
    await wait(25);
  }
  throw new Error('never came');
}
