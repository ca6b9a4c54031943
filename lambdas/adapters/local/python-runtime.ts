/**
 * Finds the Python interpreter that can run a kind's local processes. On
 * Debian the packaged `python3-distributed` lives under /usr/bin/python3,
 * while the `python3` on PATH may be another interpreter (pyenv, venv) that
 * cannot import it.
 */
import { execFile } from 'node:child_process';
import { ProvisioningError } from '../../domain/errors.ts';
import type { PythonModule } from '../../domain/kinds/kind.ts';

export const DEFAULT_PYTHON_CANDIDATES: readonly string[] = ['/usr/bin/python3', 'python3'];

/** An import takes about a second; this only guards against a hung interpreter. */
const PROBE_TIMEOUT_MS = 60_000;

const PROBE_MARKER = 'bilbo-python-ok';

const found = new Map<string, Promise<string>>();

/** Whether `python` can import `module` (about a second: an interpreter starts). */
export function canImport(python: string, module: string): Promise<boolean> {
  return new Promise((resolve) => {
    // Checking the output, not only the exit code: a program that ignores its arguments also exits 0.
    const script = `import ${module}, sys; sys.stdout.write(${JSON.stringify(PROBE_MARKER)})`;
    execFile(python, ['-c', script], { timeout: PROBE_TIMEOUT_MS }, (error, stdout) =>
      resolve(!error && stdout === PROBE_MARKER),
    );
  });
}

async function firstThatImports(candidates: readonly string[], runtime: PythonModule): Promise<string> {
  for (const python of candidates) {
    if (await canImport(python, runtime.module)) return python;
  }
  throw new ProvisioningError(
    `No Python interpreter that can import ${runtime.module} was found (tried ${candidates.join(', ')}). ` +
      `Install it (${runtime.install}), or set BILBO_PYTHON to a python that has it.`,
  );
}

/**
 * The interpreters to try: `BILBO_PYTHON` alone when the caller's
 * environment sets it (a choice is not silently replaced), else the defaults.
 */
export function pythonCandidates(env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const fromEnv = env.BILBO_PYTHON?.trim();
  return fromEnv ? [fromEnv] : [...DEFAULT_PYTHON_CANDIDATES];
}

/** The Python that runs the runtime's processes: BILBO_PYTHON's, checked, or the first default that can. */
export async function pythonFor(
  env: Readonly<Record<string, string | undefined>>,
  runtime: PythonModule,
): Promise<string> {
  const chosen = env.BILBO_PYTHON?.trim();
  try {
    return await findPython(pythonCandidates(env), runtime);
  } catch (error) {
    if (!chosen) throw error;
    throw new ProvisioningError(
      `BILBO_PYTHON=${chosen} cannot import ${runtime.module}: install it for that interpreter (${runtime.install}), or unset BILBO_PYTHON to use ${DEFAULT_PYTHON_CANDIDATES.join(' or ')}.`,
      { cause: error },
    );
  }
}

/**
 * The first candidate that can import the runtime's module. The answer is
 * cached per candidate list and module; a failure is not, so installing the
 * module and retrying works. Throws ProvisioningError, with the fix, when
 * none can.
 */
export function findPython(candidates: readonly string[], runtime: PythonModule): Promise<string> {
  const key = JSON.stringify([candidates, runtime.module]);
  let answer = found.get(key);
  if (answer === undefined) {
    answer = firstThatImports(candidates, runtime);
    found.set(key, answer);
    answer.catch(() => found.delete(key));
  }
  return answer;
}
