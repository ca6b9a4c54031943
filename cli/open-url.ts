/**
 * What a command that opens a cluster's URL (`dashboard`, later `notebook`)
 * prints. Opened: a line on stderr naming the browser, nothing on stdout.
 * Not opened: the URL on stdout and why on stderr, and the command still
 * succeeds. `--url`: the URL only. `--json`: `{url, opened, browser | reason}`.
 */
import type { Factory } from './factory.ts';
import { toJson } from './output.ts';

export interface OpenUrlOptions {
  /** Print the URL, do not open it (`-u/--url`). */
  urlOnly: boolean;
  json: boolean;
  /** The profile's webbrowser, from the cluster's plan. */
  webbrowser?: string;
}

export async function openUrlOrPrint(url: string, options: OpenUrlOptions, f: Factory): Promise<void> {
  const { stdout, stderr } = f.io;
  if (options.urlOnly) {
    stdout.write(
      options.json ? toJson({ url, opened: false, reason: 'asked for the URL only' }) : `${url}\n`,
    );
    return;
  }
  const outcome = await f.openBrowser(
    url,
    options.webbrowser === undefined ? {} : { webbrowser: options.webbrowser },
  );
  if (options.json) {
    stdout.write(
      toJson(
        outcome.opened
          ? { url, opened: true, browser: outcome.browser.command }
          : { url, opened: false, reason: outcome.reason },
      ),
    );
  } else if (outcome.opened) {
    const after = outcome.failures.length > 0 ? ` (${outcome.failures.join('; ')})` : '';
    stderr.write(`opened ${url} with ${outcome.browser.description}${after}\n`);
  } else {
    stdout.write(`${url}\n`);
    stderr.write(`no browser: ${outcome.reason}; open this URL yourself\n`);
  }
}
