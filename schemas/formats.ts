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
  'home-path': {
    validate: isHomePath,
    requirement: "must be a folder under the dask user's home: a relative path or ~/…, with no .. in it",
    noun: 'a folder under the home',
  },
};
