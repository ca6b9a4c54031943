/**
 * The one place the CLI's dependencies come from, so tests can swap any of
 * them. Keep this module light: `bilbo version` loads it, so anything heavy
 * (the AWS SDK, the signer, the local control plane) is imported lazily.
 */
import type { Readable, Writable } from 'node:stream';
import packageJson from '../package.json' with { type: 'json' };
import type { BilboApi } from './api/client.ts';
import type { BrowserOutcome } from './browser.ts';
import { bilboHome, type Env } from './config.ts';
import { CancelledError } from './errors.ts';
import type { LocalProviderChoice } from './local/control-plane.ts';

export interface IOStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  isStdinTTY: boolean;
  isStdoutTTY: boolean;
  isStderrTTY: boolean;
  /** Colours on stdout / stderr: only on a terminal, and never with NO_COLOR. */
  stdoutColor: boolean;
  stderrColor: boolean;
}

export interface Prompter {
  /** Asks a yes/no question (default no). Throws CancelledError on Ctrl-C. */
  confirm(question: string): Promise<boolean>;
}

export interface LocalControlPlaneOptions {
  port?: number;
  home: string;
  provider?: LocalProviderChoice;
  /** The region clients sign for and, on EC2, where clusters run. */
  region?: string;
  log: (line: string) => void;
}

export interface LocalControlPlane {
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  users?: { name: string; principal: string; accessKeyId: string; secretAccessKey: string }[];
  stop(): Promise<void>;
}

export interface Factory {
  io: IOStreams;
  env: Env;
  /** bilbo's version, from package.json. */
  version(): string;
  /** `$BILBO_HOME`, else ~/.bilbo. */
  home(): string;
  /** The signed API client; reads the config and credentials on first use. */
  api(): Promise<BilboApi>;
  prompter: Prompter;
  /**
   * Opens `url` in a browser (cli/browser.ts decides which: the profile's
   * webbrowser, $BROWSER, the platform's opener). Never throws for a missing
   * or failing browser: the outcome says whether it opened, and why not.
   */
  openBrowser(url: string, options?: { webbrowser?: string }): Promise<BrowserOutcome>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `handler` on Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /** Resolves with the first SIGINT or SIGTERM. */
  waitForShutdown(): Promise<string>;
  startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane>;
}

/** The real dependencies, on the real process. */
export function createFactory(): Factory {
  const env = process.env;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const io: IOStreams = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    isStdinTTY: process.stdin.isTTY === true,
    isStdoutTTY: process.stdout.isTTY === true,
    isStderrTTY: process.stderr.isTTY === true,
    stdoutColor: process.stdout.isTTY === true && !noColor,
    stderrColor: process.stderr.isTTY === true && !noColor,
  };
  let api: Promise<BilboApi> | undefined;

  return {
    io,
    env,
    version: packageVersion,
    home: () => bilboHome(env),
    api() {
      api ??= createRealApi(env, (line) => io.stderr.write(`${line}\n`));
      return api;
    },
    prompter: { confirm: (question) => confirmOnTerminal(io, question) },
    async openBrowser(url, options = {}) {
      const { openInBrowser } = await import('./browser.ts');
      return openInBrowser(url, { ...options, env, platform: process.platform });
    },
    now: () => Date.now(),
    async sleep(ms, signal) {
      const { setTimeout: wait } = await import('node:timers/promises');
      await wait(ms, undefined, signal ? { signal } : undefined);
    },
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGINT', handler);
      };
    },
    waitForShutdown() {
      return new Promise((resolve) => {
        const onSignal = (signal: string) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    },
    async startLocalControlPlane(options) {
      const { startLocalControlPlane } = await import('./local/control-plane.ts');
      return startLocalControlPlane(options);
    },
  };
}

export function packageVersion(): string {
  return packageJson.version;
}

async function createRealApi(env: Env, log: (line: string) => void): Promise<BilboApi> {
  const [
    { loadConfig },
    { createSignedHttp },
    { withRetries },
    { createApiClient },
    { fromNodeProviderChain },
  ] = await Promise.all([
    import('./config.ts'),
    import('./api/http.ts'),
    import('./api/retrying-http.ts'),
    import('./api/client.ts'),
    import('@aws-sdk/credential-providers'),
  ]);
  const config = await loadConfig(env);
  // One quick try at instance metadata, not the SDK's default retries.
  const credentials = fromNodeProviderChain({ timeout: 1000, maxRetries: 0 });
  const http = createSignedHttp({ endpoint: config.endpoint, region: config.region, credentials });
  return createApiClient(withRetries(http, { log }));
}

async function confirmOnTerminal(io: IOStreams, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.isStdinTTY });
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  // End of input (Ctrl-D) closes the interface without answering: that is a "no".
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const answer = await Promise.race([rl.question(`${question} [y/N] `, { signal: abort.signal }), closed]);
    return /^y(es)?$/i.test(answer.trim());
  } catch (cause) {
    if (abort.signal.aborted) {
      io.stderr.write('\n');
      throw new CancelledError('cancelled', { cause });
    }
    throw cause;
  } finally {
    rl.close();
  }
}
