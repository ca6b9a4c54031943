/**
 * The entry point: parses the command line, runs the command, and maps what
 * happened to the exit code (0 ok, 1 error, 2 cancelled, 4 auth; `rcmd` and
 * `run` exit with the remote command's own code, 130 after Ctrl-C). The only
 * module that ends the process.
 */
import { pathToFileURL } from 'node:url';
import { CancelledError, exitCodeFor, needsPrinting, RemoteCommandInterruptedError } from './errors.ts';
import { createFactory, type Factory } from './factory.ts';
import { buildProgram, type Runner } from './program.ts';

/** Runs bilbo with `args` (without node and the script) and returns the exit code. */
export async function main(
  args: readonly string[],
  f: Factory = createFactory(),
  run?: Runner,
): Promise<number> {
  try {
    await buildProgram(f, run).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (needsPrinting(error)) f.io.stderr.write(`${errorText(error, f)}\n`);
    return exitCodeFor(error);
  }
}

function errorText(error: unknown, f: Factory): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CancelledError || error instanceof RemoteCommandInterruptedError) return message;
  const prefix = f.io.stderrColor ? '\u001b[31merror:\u001b[39m' : 'error:';
  // Anything that is not one of ours is a bug: show where it came from when asked.
  const stack = f.env.BILBO_DEBUG && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return `${prefix} ${message}${stack}`;
}

/** Runs bilbo on this process's arguments and exits with its code. */
export async function run(): Promise<never> {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
