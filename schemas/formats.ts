/**
 * bilbo's own string formats in the schemas, each with what it requires in
 * words, for the validation message.
 */
import { isPrintable } from './printable.ts';

export interface CustomFormat {
  validate(text: string): boolean;
  /** Completes "<field>: …" in a validation message. */
  requirement: string;
  /** What a value of the format is, where alternatives are listed: "an https:// URL". */
  noun: string;
  /** The same rule as a pattern, for API Gateway's request model (which has no formats). */
  modelPattern?: string;
  /** What of a refused value the message may quote. @default all of it */
  quotable?(text: string): string;
  /** Why this value in particular is refused, and what to write instead. @default requirement */
  explain?(text: string): string;
}

/**
 * Why a profile may not set a tag with this key, or undefined when it may:
 * bilbo's own `bilbo:` tags (any case: IAM compares tag keys without case),
 * AWS's reserved `aws:` prefix (EC2 refuses the whole launch), and `Name`,
 * which bilbo sets from instance_prefix, the cluster, the role and the index.
 */
export function reservedTagKeyReason(key: string): string | undefined {
  const lower = key.toLowerCase();
  if (lower.startsWith('bilbo:')) {
    return `tags starting with "bilbo:" are bilbo's own (it puts bilbo:cluster-id, bilbo:role, bilbo:owner and others on every instance, and trusts them): rename the tag, e.g. without the "bilbo:" prefix`;
  }
  if (lower.startsWith('aws:')) {
    return 'the "aws:" prefix is reserved by AWS, and EC2 refuses a launch with such a tag: rename the tag';
  }
  if (key === 'Name') {
    return 'bilbo names every instance itself (instance_prefix, the cluster, the role and its index, e.g. team-nightly-worker-3): set instance_prefix instead of a Name tag';
  }
  return undefined;
}

/** https only, and no user-info: a password in a URL would be stored for that origin and logged. */
function isHttpsRepositoryUrl(text: string): boolean {
  if (!isPrintable(text) || /\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * An original bilbo profile's absolute workdir in its login user's home
 * (`/home/ubuntu/work`): the same place under the service user's home.
 */
const LOGIN_HOME = /^\/home\/[^/]+(?=\/|$)/;

/**
 * A folder under the service user's home: relative, `~`/`~/…`, or in some
 * user's home (an original profile's), never climbing out with `..`.
 */
export function isHomePath(text: string): boolean {
  if (!isPrintable(text)) return false;
  if (text.startsWith('/') && !LOGIN_HOME.test(text)) return false;
  if (text.startsWith('~') && text !== '~' && !text.startsWith('~/')) return false;
  return !text.split('/').includes('..');
}

/** A home path (isHomePath) relative to the home: `''` for the home itself. */
export function relativeToHome(text: string): string {
  return text.replace(LOGIN_HOME, '').replace(/^~/, '').replace(/^\/+/, '');
}

export const CUSTOM_FORMATS: Readonly<Record<string, CustomFormat>> = {
  printable: {
    validate: isPrintable,
    requirement: 'must not contain control characters such as terminal escapes',
    noun: 'a string with no control characters',
  },
  'https-repository': {
    validate: isHttpsRepositoryUrl,
    requirement:
      'must be an https:// URL with no user name or password in it (the password goes in notebook.git.password)',
    noun: 'an https:// URL',
    // An authority with no '@': no user-info.
    modelPattern: '^https://[^/@\\s?#]+([/?#]\\S*)?$',
    quotable: (text) => text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1…@'),
  },
  'tag-key': {
    validate: (text) => isPrintable(text) && reservedTagKeyReason(text) === undefined,
    requirement:
      'must be a tag key of the profile’s own: not Name, nor starting with bilbo: or aws:, and with no control characters',
    noun: 'a tag key',
    explain: (text) =>
      reservedTagKeyReason(text) ?? 'must not contain control characters such as terminal escapes',
  },
  'home-path': {
    validate: isHomePath,
    requirement: "must be a folder under the dask user's home: a relative path or ~/…, with no .. in it",
    noun: 'a folder under the home',
  },
};
