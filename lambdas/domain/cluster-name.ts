/**
 * Cluster names: `-c NAME`, or the profile file's name. They end up in
 * instance tags, URLs and log lines, so only a small safe alphabet is allowed.
 */
import { InvalidClusterNameError } from './errors.ts';

const MAX_LENGTH = 39;
const VALID = new RegExp(`^[a-z][a-z0-9-]{0,${MAX_LENGTH - 1}}$`);
const RULE = `use lower-case letters, digits and '-', start with a letter, at most ${MAX_LENGTH} characters`;

export interface ClusterNameSource {
  /** The `-c NAME` option; wins over the profile file. */
  explicit?: string | undefined;
  /** The profile file (a name or a path); its base name without `.json`, lower-cased, is the default name. */
  profileFile?: string | undefined;
}

export function clusterNameFrom(source: ClusterNameSource): string {
  if (source.explicit !== undefined) return check(source.explicit, 'explicit');
  if (source.profileFile !== undefined) {
    const base = source.profileFile.split('/').pop() ?? '';
    return check(base.replace(/\.json$/i, '').toLowerCase(), 'profile');
  }
  throw new InvalidClusterNameError(
    'No cluster name: pass -c NAME, or a profile whose file name is the cluster name',
    {
      field: 'name',
    },
  );
}

/** Returns the name when it is valid; throws InvalidClusterNameError saying what is wrong otherwise. */
export function assertClusterName(name: string): string {
  return check(name, 'api');
}

export function isValidClusterName(name: unknown): name is string {
  return typeof name === 'string' && VALID.test(name);
}

function check(name: string, origin: 'explicit' | 'profile' | 'api'): string {
  if (isValidClusterName(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
  const why = typeof name === 'string' ? problemsOf(name) : 'it is not text';
  const suggestion = typeof name === 'string' ? suggest(name) : undefined;
  let fix = '';
  if (origin === 'profile') {
    fix = `; pass -c NAME to choose one${suggestion ? `, e.g. -c ${suggestion}` : ''}`;
  } else if (suggestion) {
    fix = origin === 'explicit' ? `, e.g. -c ${suggestion}` : `, e.g. "${suggestion}"`;
  }
  throw new InvalidClusterNameError(`${shown} is not a valid cluster name (${why}): ${RULE}${fix}`, {
    field: 'name',
  });
}

function problemsOf(name: string): string {
  if (name === '') return 'it is empty';
  const problems: string[] = [];
  if (!/^[a-zA-Z]/.test(name)) problems.push(`it starts with ${JSON.stringify(name[0])}`);
  const bad = new Set<string>();
  let upper = false;
  for (const char of name) {
    if (/[A-Z]/.test(char)) upper = true;
    else if (!/[a-z0-9-]/.test(char)) bad.add(char === ' ' ? 'spaces' : JSON.stringify(char));
  }
  if (upper) problems.push('it has upper-case letters');
  if (bad.size > 0) problems.push(`it contains ${[...bad].join(' ')}`);
  if (name.length > MAX_LENGTH) problems.push(`it is ${name.length} characters long`);
  return problems.join(', ');
}

/** A valid name close to the given one, when there is one. */
function suggest(name: string): string | undefined {
  const candidate = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, MAX_LENGTH)
    .replace(/-+$/, '');
  return VALID.test(candidate) ? candidate : undefined;
}
