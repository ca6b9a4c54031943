/**
 * A local plane's deployment id, the value of the `bilbo:managed` tag on
 * the EC2 instances it launches (a deployed stack uses its UUID): made once
 * per $BILBO_HOME and kept, so a later plane on the same home recognises
 * its instances and no other plane's.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'deployment-id';
const VALID = /^local-[0-9a-f-]{36}$/;

export async function localDeploymentId(home: string): Promise<string> {
  const path = join(home, FILE);
  const kept = await readKept(path);
  if (kept !== undefined) return kept;
  await mkdir(home, { recursive: true });
  const draft = join(home, `.${FILE}.${process.pid}.${randomUUID()}`);
  await writeFile(draft, `local-${randomUUID()}\n`, { mode: 0o600 });
  try {
    // Whole files only: of two planes starting at once, the second takes the first one's id.
    await link(draft, path).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      // A damaged file is replaced; a good one (the other plane's) is kept.
      if ((await readKept(path)) === undefined) await rename(draft, path);
    });
  } finally {
    await rm(draft, { force: true });
  }
  const id = await readKept(path);
  if (id === undefined) throw new Error(`${path} holds no deployment id`);
  return id;
}

async function readKept(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const id = text?.trim();
  return id !== undefined && VALID.test(id) ? id : undefined;
}
