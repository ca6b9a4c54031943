import { describe, expect, it } from 'vitest';
import { notebookRun } from '../../../cli/commands/notebook.ts';
import { ApiRequestError } from '../../../cli/errors.ts';
import { fakeFactory, NOTEBOOK_TOKEN, readyCluster, scriptedApi } from './fakes.ts';

const NOTEBOOK = 'http://10.0.0.7:8888';
const LINK = `${NOTEBOOK}/?token=${NOTEBOOK_TOKEN}`;
const withNotebook = () => ({ ...readyCluster(), notebookUrl: NOTEBOOK });
const run = (fake: ReturnType<typeof fakeFactory>, flags: { url?: boolean; json?: boolean } = {}) =>
  notebookRun({ name: 'analytics', url: flags.url ?? false, json: flags.json ?? false }, fake.f);

describe('bilbo notebook', () => {
  it("opens the notebook logged in, with the API's link, and prints nothing on stdout", async () => {
    const api = scriptedApi({ states: [withNotebook()] });
    const fake = fakeFactory({ api });

    await run(fake);

    expect(api.notebookLink).toHaveBeenCalledWith('analytics');
    expect(fake.opened).toEqual([LINK]);
    expect(fake.stdout.text).toBe('');
    expect(fake.stderr.text).toBe(`opened ${LINK} with fake-browser\n`);
  });

  it('prints the URL with its token with -u, and as JSON with --json', async () => {
    const urlOnly = fakeFactory({ api: scriptedApi({ states: [withNotebook()] }) });
    await run(urlOnly, { url: true });
    expect(urlOnly.stdout.text).toBe(`${LINK}\n`);
    expect(urlOnly.opened).toEqual([]);

    const json = fakeFactory({ api: scriptedApi({ states: [withNotebook()] }) });
    await run(json, { url: true, json: true });
    expect(JSON.parse(json.stdout.text)).toEqual({
      url: LINK,
      opened: false,
      reason: 'asked for the URL only',
    });
  });

  it("opens it with the browser the API says the owner's profile names", async () => {
    const api = scriptedApi({ states: [withNotebook()] });
    api.notebookLink.mockResolvedValueOnce({ url: LINK, webbrowser: 'firefox' });
    const asked: unknown[] = [];
    const fake = fakeFactory({
      api,
      overrides: {
        openBrowser: async (url, options) => {
          asked.push([url, options]);
          return { opened: false, reason: 'test' };
        },
      },
    });

    await run(fake);

    expect(asked).toEqual([[LINK, { webbrowser: 'firefox' }]]);
  });

  it("passes the API's refusal on: a teammate's cluster, or one without a notebook", async () => {
    const api = scriptedApi({ states: [withNotebook()] });
    api.notebookLink.mockRejectedValueOnce(
      new ApiRequestError(
        403,
        'NOT_OWNER',
        'only its owner or an admin may open the notebook of cluster analytics',
      ),
    );
    const fake = fakeFactory({ api });

    await expect(run(fake)).rejects.toThrow(/open the notebook of cluster analytics/);
    expect(fake.opened).toEqual([]);
  });
});
