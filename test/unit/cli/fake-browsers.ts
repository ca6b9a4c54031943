/**
 * Real little programs to stand in for browsers: each records the arguments
 * it got (as JSON, so one argument stays one) and exits with its status, or
 * keeps running. They live in a temporary folder whose name has a space.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeBrowser {
  /** The program's absolute path (it has a space in it). */
  path: string;
  /** The arguments it was started with, or undefined when it never ran. */
  argv(): Promise<string[] | undefined>;
  /** Its process id, once it has written it (lingering browsers only). */
  pid(): Promise<number | undefined>;
}

export interface FakeBrowsers {
  dir: string;
  /** A program that records its arguments and exits with `status`, or keeps running with `linger`. */
  make(name: string, behaviour?: { status?: number; linger?: boolean }): Promise<FakeBrowser>;
  /** Stops every lingering browser and removes the folder. */
  cleanup(): Promise<void>;
}

export async function fakeBrowsers(): Promise<FakeBrowsers> {
  const dir = await mkdtemp(join(tmpdir(), 'bilbo browsers '));
  const pids: Array<() => Promise<number | undefined>> = [];
  return {
    dir,
    async make(name, behaviour = {}) {
      const path = join(dir, `${name}.cjs`);
      const argvFile = join(dir, `${name}.argv.json`);
      const pidFile = join(dir, `${name}.pid`);
      const ending = behaviour.linger
        ? `fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetTimeout(() => {}, 60_000);\n`
        : `process.exitCode = ${behaviour.status ?? 0};\n`;
      await writeFile(
        path,
        `#!${process.execPath}\nconst fs = require('node:fs');\n` +
          `fs.writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));\n${ending}`,
      );
      await chmod(path, 0o755);
      const pid = async () => (existsSync(pidFile) ? Number(await readFile(pidFile, 'utf8')) : undefined);
      pids.push(pid);
      return {
        path,
        argv: async () => (existsSync(argvFile) ? JSON.parse(await readFile(argvFile, 'utf8')) : undefined),
        pid,
      };
    },
    async cleanup() {
      for (const pid of pids) {
        const id = await pid();
        if (id === undefined) continue;
        try {
          process.kill(id);
        } catch {
          // Already gone.
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
