import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, InsecureEndpointError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CliConfig {
  endpoint: string;
  region: string;
}

interface ConfigFile {
  endpoint?: string;
  region?: string;
}

export const DEFAULT_REGION = 'us-east-1';

/** Where bilbo keeps its profiles and config: `$BILBO_HOME`, else `~/.bilbo`. */
export function bilboHome(env: Env): string {
  return nonEmpty(env.BILBO_HOME) ?? join(homedir(), '.bilbo');
}

export function configPath(home: string): string {
  return join(home, 'config.json');
}

/**
 * The API endpoint and region. The environment wins over
 * `$BILBO_HOME/config.json`: BILBO_ENDPOINT for the endpoint, BILBO_REGION
 * then AWS_REGION for the region, which defaults to us-east-1.
 */
export async function loadConfig(env: Env, home = bilboHome(env)): Promise<CliConfig> {
  const file = await readConfigFile(configPath(home));
  const fromEnv = nonEmpty(env.BILBO_ENDPOINT);
  const endpoint = fromEnv ?? nonEmpty(file.endpoint);
  const source = fromEnv === undefined ? configPath(home) : 'BILBO_ENDPOINT';
  if (endpoint === undefined) {
    throw new ConfigError(
      `no bilbo API endpoint configured: export BILBO_ENDPOINT=https://... or set "endpoint" in ${configPath(home)}` +
        ' (for local mode, run `bilbo local` and export what it prints)',
    );
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new ConfigError(`the bilbo API endpoint "${endpoint}" is not a URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`the bilbo API endpoint "${endpoint}" must be an http(s) URL`);
  }
  // Signed requests carry the caller's identity: in clear text only to this machine.
  if (url.protocol === 'http:' && !isLoopback(url.hostname))
    throw new InsecureEndpointError(endpoint, source);
  const region =
    nonEmpty(env.BILBO_REGION) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(file.region) ?? DEFAULT_REGION;
  return { endpoint: endpoint.replace(/\/+$/, ''), region };
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${path} must hold a JSON object like { "endpoint": "...", "region": "..." }`);
  }
  const { endpoint, region } = value as Record<string, unknown>;
  for (const [key, v] of Object.entries({ endpoint, region })) {
    if (v !== undefined && typeof v !== 'string') {
      throw new ConfigError(`"${key}" in ${path} must be a string`);
    }
  }
  return { endpoint: endpoint as string | undefined, region: region as string | undefined };
}

/** localhost, 127.0.0.0/8 and ::1: the hosts a plain-http endpoint may name. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '[::1]') return true;
  const octets = host.split('.');
  return (
    octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
