import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Debian's python: the `python3` on PATH may be another one that lacks botocore. */
export const PYTHON = '/usr/bin/python3';
const HERE = import.meta.dirname;

function run(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Fails (never skips) when botocore is missing, saying how to install it. */
export async function assertBotocoreInstalled(): Promise<void> {
  const { code, stderr } = await run(['-c', 'import botocore'], '');
  if (code !== 0) {
    throw new Error(
      `${PYTHON} cannot import botocore; install it with \`apt-get install python3-botocore\`.\n${stderr}`,
    );
  }
}

/** Runs one of the helper scripts in this folder with `input` as JSON on stdin; returns its JSON output. */
export async function runBotocore(script: 'sign' | 'check' | 'send', input: unknown): Promise<unknown> {
  const { code, stdout, stderr } = await run([join(HERE, `${script}.py`)], JSON.stringify(input));
  if (code !== 0) throw new Error(`${script}.py exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout);
}
