import type { Factory } from '../factory.ts';
import { colors, renderTable, toJson } from '../output.ts';
import { listProfiles, profilesDir } from '../profiles.ts';

export interface ProfilesOptions {
  json: boolean;
}

export async function profilesRun(options: ProfilesOptions, f: Factory): Promise<void> {
  const home = f.home();
  const profiles = await listProfiles(home);
  if (options.json) {
    f.io.stdout.write(toJson({ profiles }));
    return;
  }
  if (profiles.length === 0) {
    f.io.stderr.write(`no profiles in ${profilesDir(home)}: add NAME.json files there (see examples/)\n`);
    return;
  }
  const c = colors(f.io.stdoutColor);
  const rows = profiles.map((p) => [
    p.name,
    p.valid ? c.green('yes') : c.red('no'),
    p.valid ? (p.description ?? '') : (p.problem ?? ''),
  ]);
  f.io.stdout.write(renderTable(['NAME', 'VALID', 'DESCRIPTION/PROBLEM'], rows, c));
}
