import type { Factory } from '../factory.ts';

export interface VersionOptions {
  json: boolean;
}

export async function versionRun(options: VersionOptions, f: Factory): Promise<void> {
  const version = f.version();
  f.io.stdout.write(options.json ? `${JSON.stringify({ version }, null, 2)}\n` : `bilbo ${version}\n`);
}
