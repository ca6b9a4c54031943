import { resolve } from 'node:path';
import type { ReaperSettings } from '../../lambdas/domain/reaper/rules.ts';
import type { Factory } from '../factory.ts';
import type { LocalProviderChoice } from '../local/control-plane.ts';
import { endpointEnvironment, exportLine, keyPairEnvironment } from '../local/plane-environment.ts';

export interface LocalOptions {
  port?: number;
  /** Folder for the local state; defaults to $BILBO_HOME. */
  home?: string;
  /** Where clusters run. @default local processes */
  provider?: LocalProviderChoice;
  /** More local identities. */
  users?: string[];
  /** Principals (or local user names) that may change any cluster. */
  admins?: string[];
  /** How often the reaper sweeps. */
  reapEveryMs?: number;
  /** The reaper settings the flags set; the others keep their defaults. */
  reaper?: Partial<ReaperSettings>;
}

export async function localRun(options: LocalOptions, f: Factory): Promise<void> {
  const home = options.home === undefined ? f.home() : resolve(options.home);
  // Start listening before the control plane, so a Ctrl-C during start-up still stops it cleanly.
  const shutdown = f.waitForShutdown();
  shutdown.catch(() => {}); // awaited below, after start-up
  const plane = await f.startLocalControlPlane({
    ...(options.port === undefined ? {} : { port: options.port }),
    home,
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.users ? { users: options.users } : {}),
    ...(options.admins ? { admins: options.admins } : {}),
    ...(options.reapEveryMs === undefined ? {} : { reapEveryMs: options.reapEveryMs }),
    ...(options.reaper ? { reaper: options.reaper } : {}),
    ...(regionOf(f.env) ? { region: regionOf(f.env) } : {}),
    log: (line) => f.io.stderr.write(`${line}\n`),
  });
  try {
    const lines = Object.entries(endpointEnvironment(plane)).map(([name, value]) =>
      exportLine({ [name]: value }),
    );
    if (plane.credentials) lines.push(exportLine(keyPairEnvironment(plane.credentials)));
    for (const user of plane.users ?? []) {
      // Comments, so that the output stays something a shell can eval.
      lines.push(`# as ${user.name} (${user.principal}): ${exportLine(keyPairEnvironment(user))}`);
    }
    f.io.stderr.write('bilbo local is running; in another shell, point the CLI at it:\n');
    f.io.stdout.write(`${lines.join('\n')}\n`);
    f.io.stderr.write('press Ctrl-C to stop\n');
    await shutdown;
    f.io.stderr.write('stopping...\n');
  } finally {
    await plane.stop();
  }
  f.io.stderr.write('stopped\n');
}

/** The same order as the CLI's own configuration: BILBO_REGION, then AWS_REGION. */
function regionOf(env: Factory['env']): string | undefined {
  return env.BILBO_REGION || env.AWS_REGION || undefined;
}
