import type { Factory } from '../factory.ts';
import { openUrlOrPrint } from '../open-url.ts';

export interface NotebookOptions {
  name: string;
  /** Print the URL instead of opening it. */
  url: boolean;
  json: boolean;
}

/**
 * Opens a READY cluster's notebook, logged in with its token, with the
 * browser its profile names, else $BROWSER, else the platform's. The API
 * gives the URL to the cluster's owner and admins only.
 */
export async function notebookRun(options: NotebookOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const link = await api.notebookLink(options.name);
  await openUrlOrPrint(
    link.url,
    {
      urlOnly: options.url,
      json: options.json,
      ...(link.webbrowser === undefined ? {} : { webbrowser: link.webbrowser }),
    },
    f,
  );
}
