import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bilboHome, loadConfig } from '../../../cli/config.ts';
import { ConfigError, InsecureEndpointError } from '../../../cli/errors.ts';

describe('loadConfig', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-config-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const writeConfig = (value: unknown) => writeFile(join(home, 'config.json'), JSON.stringify(value));

  it('reads the endpoint and region from $BILBO_HOME/config.json', async () => {
    await writeConfig({ endpoint: 'https://api.example.com/prod/', region: 'eu-west-1' });
    expect(await loadConfig({ BILBO_HOME: home })).toEqual({
      endpoint: 'https://api.example.com/prod',
      region: 'eu-west-1',
    });
  });

  it('lets the environment win over the file', async () => {
    await writeConfig({ endpoint: 'https://file.example.com', region: 'eu-west-1' });
    expect(
      await loadConfig({
        BILBO_HOME: home,
        BILBO_ENDPOINT: 'http://127.0.0.1:4000',
        BILBO_REGION: 'ap-south-1',
      }),
    ).toEqual({ endpoint: 'http://127.0.0.1:4000', region: 'ap-south-1' });
  });

  it('takes the region from AWS_REGION when BILBO_REGION is unset', async () => {
    await writeConfig({ endpoint: 'https://file.example.com', region: 'eu-west-1' });
    expect((await loadConfig({ BILBO_HOME: home, AWS_REGION: 'us-west-2' })).region).toBe('us-west-2');
  });

  it('defaults the region to us-east-1', async () => {
    expect((await loadConfig({ BILBO_HOME: home, BILBO_ENDPOINT: 'http://127.0.0.1:4000' })).region).toBe(
      'us-east-1',
    );
  });

  it('fails naming both ways to set the endpoint when there is none', async () => {
    const loading = loadConfig({ BILBO_HOME: home });
    await expect(loading).rejects.toThrow(ConfigError);
    await expect(loading).rejects.toThrow(/BILBO_ENDPOINT.*config\.json/);
  });

  it('fails on a config file that is not JSON', async () => {
    await writeFile(join(home, 'config.json'), '{ "endpoint": ');
    await expect(loadConfig({ BILBO_HOME: home })).rejects.toThrow(ConfigError);
  });

  it('fails on an endpoint that is not a URL', async () => {
    await expect(loadConfig({ BILBO_HOME: home, BILBO_ENDPOINT: 'localhost:4000' })).rejects.toThrow(
      ConfigError,
    );
  });
});

describe('loadConfig on plain http', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-config-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each(['http://127.0.0.1:4000', 'http://127.8.9.10', 'http://localhost:8080/v1', 'http://[::1]:4000'])(
    'accepts the loopback endpoint %s',
    async (endpoint) => {
      expect((await loadConfig({ BILBO_HOME: home, BILBO_ENDPOINT: endpoint })).endpoint).toBe(endpoint);
    },
  );

  it.each([
    'http://api.example.com',
    'http://10.0.0.5:4000',
    'http://128.0.0.1',
    'http://127.0.0.1.example.com',
  ])('refuses %s from BILBO_ENDPOINT, naming it and the variable', async (endpoint) => {
    const loading = loadConfig({ BILBO_HOME: home, BILBO_ENDPOINT: endpoint });
    await expect(loading).rejects.toThrow(InsecureEndpointError);
    await expect(loading).rejects.toThrow(`${endpoint} (from BILBO_ENDPOINT)`);
  });

  it('names config.json when the endpoint came from there', async () => {
    await writeFile(join(home, 'config.json'), JSON.stringify({ endpoint: 'http://api.example.com/v1' }));
    await expect(loadConfig({ BILBO_HOME: home })).rejects.toThrow(`(from ${join(home, 'config.json')})`);
  });
});

describe('bilboHome', () => {
  it('is $BILBO_HOME when set, else ~/.bilbo', () => {
    expect(bilboHome({ BILBO_HOME: '/srv/bilbo' })).toBe('/srv/bilbo');
    expect(bilboHome({})).toMatch(/\/\.bilbo$/);
  });
});
