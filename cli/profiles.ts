import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BilboError, ValidationError } from '../lambdas/domain/errors.ts';
import type { Profile } from '../schemas/types.generated.ts';
import { validateProfile } from '../schemas/validate.ts';
import { ProfileFileError } from './errors.ts';

export interface ProfileSource {
  /** The profile's name: its file name without `.json`. */
  name: string;
  path: string;
}

export interface LoadedProfile extends ProfileSource {
  profile: Profile;
}

export interface ProfileListing extends ProfileSource {
  valid: boolean;
  description?: string;
  /** The first problem, when the profile is not valid. */
  problem?: string;
}

export function profilesDir(home: string): string {
  return join(home, 'profiles');
}

/**
 * A profile argument is a path when it contains a `/` or ends in `.json`,
 * and otherwise a name in `$BILBO_HOME/profiles`.
 */
export function resolveProfile(argument: string, home: string, cwd = process.cwd()): ProfileSource {
  if (argument.includes('/') || argument.endsWith('.json')) {
    return { name: basename(argument).replace(/\.json$/, ''), path: resolve(cwd, argument) };
  }
  return { name: argument, path: join(profilesDir(home), `${argument}.json`) };
}

/** Reads and parses a JSON file; a syntax error names the file, line and column. */
export async function readJsonFile(path: string, what = 'profile'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new ProfileFileError(path, `cannot read ${what} ${path}: ${reason}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ProfileFileError(path, `${path}${where(text, cause as Error)}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Reads, parses and validates a profile, so mistakes fail before any request. */
export async function loadProfile(argument: string, home: string, cwd?: string): Promise<LoadedProfile> {
  const source = resolveProfile(argument, home, cwd);
  let value: unknown;
  try {
    value = await readJsonFile(source.path);
  } catch (error) {
    const isName = source.path === join(profilesDir(home), `${argument}.json`);
    if (
      isName &&
      error instanceof ProfileFileError &&
      (error.cause as NodeJS.ErrnoException)?.code === 'ENOENT'
    ) {
      throw new ProfileFileError(
        source.path,
        `no profile named "${argument}": ${source.path} does not exist (run \`bilbo profiles\` to list them, or give a path)`,
        { cause: error },
      );
    }
    throw error;
  }
  return { ...source, profile: validateNamed(value, source.path) };
}

/** Every `*.json` in `$BILBO_HOME/profiles`, sorted by name, each checked. */
export async function listProfiles(home: string): Promise<ProfileListing[]> {
  const dir = profilesDir(home);
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ProfileFileError(dir, `cannot read ${dir}: ${(cause as Error).message}`, { cause });
  }
  return Promise.all(
    files.map((file) => checkProfile({ name: file.replace(/\.json$/, ''), path: join(dir, file) })),
  );
}

async function checkProfile(source: ProfileSource): Promise<ProfileListing> {
  let value: unknown;
  try {
    value = await readJsonFile(source.path);
  } catch (error) {
    return { ...source, valid: false, problem: problemOf(error, source.path) };
  }
  try {
    const profile = validateProfile(value);
    return { ...source, valid: true, ...(profile.description ? { description: profile.description } : {}) };
  } catch (error) {
    if (!(error instanceof BilboError)) throw error;
    return { ...source, valid: false, problem: problemOf(error, source.path) };
  }
}

function validateNamed(value: unknown, path: string): Profile {
  try {
    return validateProfile(value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${path}: ${error.message}`, {
      cause: error,
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
}

/** The first line of the message, without the file name the listing already shows. */
function problemOf(error: unknown, path: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? message;
  return first.startsWith(path) ? first.slice(path.length).replace(/^[,:]\s*/, '') : first;
}

/** `, line L column C` from a JSON.parse error's position, when it has one. */
function where(text: string, error: Error): string {
  const match = /position (\d+)/.exec(error.message);
  if (!match) return '';
  const position = Number(match[1]);
  const before = text.slice(0, position).split('\n');
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  return `, line ${line} column ${column}`;
}
