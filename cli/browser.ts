/**
 * Opening a URL in the user's browser, never through a shell.
 *
 * Which browser, tried in this order until one starts:
 *  1. the profile's `webbrowser` (the original bilbo's field): one program,
 *     by path or name (spaces in a path are part of it), given the URL as its
 *     only argument, as the original ran it;
 *  2. each entry of `$BROWSER`, separated by `:` (`;` on Windows), read as
 *     Python's webbrowser module and the $BROWSER convention read it: words
 *     split on spaces (`'…'` and `"…"` keep spaces in a word), `%s` replaced
 *     by the URL and `%%` by `%`; an entry without `%s` gets the URL appended;
 *  3. the platform's opener: `open` on macOS; `rundll32
 *     url.dll,FileProtocolHandler` on Windows (`cmd /c start` would read `&`
 *     in a URL as a command separator); `xdg-open` elsewhere, and there only
 *     when there is a display (DISPLAY or WAYLAND_DISPLAY).
 *
 * Every command is an argv array and the URL is always inside one argument,
 * so `;`, `$(…)`, spaces or quotes in it reach the browser untouched. A
 * browser counts as opened once it started and did not fail within a short
 * time: it exited 0, or it is still running (it is left running, detached,
 * and the CLI does not wait for it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Env } from './config.ts';
import { BrowserLaunchError } from './errors.ts';

export type BrowserSource = 'profile' | 'BROWSER' | 'platform';

export interface BrowserCommand {
  command: string;
  /** The arguments, with the URL in place. */
  args: string[];
  source: BrowserSource;
  /** How messages name it: `"firefox" from $BROWSER`. */
  description: string;
}

export interface BrowserSettings {
  /** The profile's `webbrowser`, when the cluster's profile has one. */
  webbrowser?: string;
  env: Env;
  platform: NodeJS.Platform;
}

export interface BrowserChoice {
  /** The browsers to try, in order. */
  commands: BrowserCommand[];
  /** Why a browser that could have been tried is not among them. */
  skipped: string[];
}

export type BrowserOutcome =
  | {
      opened: true;
      browser: BrowserCommand;
      /** The browsers tried before it that did not start, each with why. */
      failures: string[];
    }
  | { opened: false; reason: string };

/** How long a browser has to start, or to fail, before it counts as opened. */
export const BROWSER_SETTLE_MS = 1000;

export interface LaunchOptions {
  /** @default BROWSER_SETTLE_MS */
  settleMs?: number;
}

/** The browsers to try for `url`, first to last, as the module comment describes. */
export function chooseBrowsers(url: string, settings: BrowserSettings): BrowserChoice {
  const commands: BrowserCommand[] = [];
  const skipped: string[] = [];
  const webbrowser = settings.webbrowser?.trim();
  if (webbrowser) {
    commands.push({
      command: webbrowser,
      args: [url],
      source: 'profile',
      description: `${JSON.stringify(webbrowser)} from the profile's webbrowser`,
    });
  }
  const entries = browserListEntries(settings.env.BROWSER, settings.platform);
  for (const entry of entries) {
    const argv = browserEntryArgv(entry, url);
    const description = `${JSON.stringify(entry)} from $BROWSER`;
    if (argv === undefined) {
      skipped.push(`${description} has a quote that is not closed`);
    } else if (argv.length > 0) {
      commands.push({ command: argv[0]!, args: argv.slice(1), source: 'BROWSER', description });
    }
  }
  const opener = platformOpener(url, settings.platform);
  if (opener.needsDisplay && !hasDisplay(settings.env)) {
    const noDisplay = 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
    skipped.push(
      entries.length === 0 && !webbrowser
        ? `$BROWSER is unset and ${noDisplay}`
        : `${noDisplay} for xdg-open`,
    );
  } else {
    commands.push(opener.command);
  }
  return { commands, skipped };
}

/** `$BROWSER`'s entries: separated like PATH (`:`, or `;` on Windows), empty ones dropped. */
export function browserListEntries(value: string | undefined, platform: NodeJS.Platform): string[] {
  const separator = platform === 'win32' ? ';' : ':';
  return (value ?? '')
    .split(separator)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/**
 * One `$BROWSER` entry as argv for `url`: its words, `%s` → the URL and
 * `%%` → `%` in each, the URL appended when no word has `%s`. Undefined when
 * a quote is not closed.
 */
export function browserEntryArgv(entry: string, url: string): string[] | undefined {
  const words = wordsOf(entry);
  if (words === undefined) return undefined;
  let placed = false;
  const argv = words.map((word) =>
    // A replacer function, so `$&` and the like in the URL stay literal.
    word.replace(/%[%s]/g, (token) => {
      if (token === '%%') return '%';
      placed = true;
      return url;
    }),
  );
  return placed || argv.length === 0 ? argv : [...argv, url];
}

/** Words split on white space; `'…'` and `"…"` quote (no escapes). Undefined when a quote is left open. */
function wordsOf(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== undefined) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

function platformOpener(
  url: string,
  platform: NodeJS.Platform,
): { command: BrowserCommand; needsDisplay: boolean } {
  const command = (name: string, args: string[]): BrowserCommand => ({
    command: name,
    args,
    source: 'platform',
    description: name,
  });
  if (platform === 'darwin') return { command: command('open', [url]), needsDisplay: false };
  if (platform === 'win32') {
    return { command: command('rundll32', ['url.dll,FileProtocolHandler', url]), needsDisplay: false };
  }
  return { command: command('xdg-open', [url]), needsDisplay: true };
}

function hasDisplay(env: Env): boolean {
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
}

/** Only web addresses go to a browser: anything else (or text starting `-`) could be read as a file or a flag. */
function isWebUrl(url: string): boolean {
  return URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol);
}

/** Tries each chosen browser in turn; never throws for a browser that is missing or fails. */
export async function openInBrowser(
  url: string,
  settings: BrowserSettings,
  options: LaunchOptions = {},
): Promise<BrowserOutcome> {
  if (!isWebUrl(url)) {
    return { opened: false, reason: `${JSON.stringify(url)} is not an http or https URL` };
  }
  const { commands, skipped } = chooseBrowsers(url, settings);
  const failures: string[] = [];
  for (const browser of commands) {
    try {
      await launch(browser, settings.env, options.settleMs ?? BROWSER_SETTLE_MS);
      return { opened: true, browser, failures };
    } catch (error) {
      if (!(error instanceof BrowserLaunchError)) throw error;
      failures.push(error.message);
    }
  }
  return { opened: false, reason: [...failures, ...skipped].join('; ') };
}

/**
 * Starts one browser (with `env`, which also gives the PATH it is looked
 * up on), detached and with no stdio of ours, and resolves once
 * it has exited 0 or is still running `settleMs` after it started. Rejects
 * with BrowserLaunchError when it cannot start, exits otherwise within that
 * time, or has not started by then.
 */
function launch(browser: BrowserCommand, env: Env, settleMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(browser.command, browser.args, {
        detached: true,
        stdio: 'ignore',
        env: { ...env },
        shell: false,
        windowsHide: true,
      });
    } catch (cause) {
      reject(
        new BrowserLaunchError(browser.description, `could not start: ${spawnProblem(cause)}`, { cause }),
      );
      return;
    }
    let started = false;
    let settled = false;
    const settle = (problem?: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.unref();
      if (problem === undefined) resolve();
      else reject(new BrowserLaunchError(browser.description, problem, cause === undefined ? {} : { cause }));
    };
    const timer = setTimeout(() => {
      if (started) settle();
      else settle(`did not start within ${settleMs} ms`);
    }, settleMs);
    child.once('spawn', () => {
      started = true;
    });
    // Stays attached after settling: a late 'error' must not become an uncaught one.
    child.on('error', (cause) => settle(`could not start: ${spawnProblem(cause)}`, cause));
    child.once('exit', (code, signal) => {
      if (code === 0) settle();
      else settle(signal ? `was stopped by ${signal}` : `exited with status ${code}`);
    });
  });
}

function spawnProblem(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such program (ENOENT)';
  if (code === 'EACCES') return 'it is not executable (EACCES)';
  return cause instanceof Error ? cause.message : String(cause);
}
