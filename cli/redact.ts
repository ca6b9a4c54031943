/**
 * What the CLI never prints. The record is built to hold no secret (the
 * Jupyter token and a git password live in the secret store; the API's
 * schemas refuse credentials in URLs), so this is the last check before a
 * record reaches a terminal or a script's log: a field named like a secret,
 * a credential in a URL, a `password=…` in a command line, a private key.
 */

export const REDACTED = '[redacted]';

/** Fields whose text is a secret, whatever it looks like (`hasGitPassword`, a boolean, stays). */
const SECRET_FIELD = /token|passw(or)?d|secret|credential|private_?key|api_?key/i;

/**
 * `token=…` (a URL's query too), `password:…`, `--password …`: the value of
 * a secret-named setting in free text. Prose (`password: must be …`) stays.
 */
const SECRET_SETTING =
  /(?<![\w-])(-{0,2}[\w-]*(?:token|passw(?:or)?d|secret|api[_-]?key)[\w-]*)(\s*=\s*|:(?=\S)|\s+)("[^"]*"|'[^']*'|[^\s"'&;]+)/gi;

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** A copy of `value` with every secret replaced by `[redacted]`; keys and shape unchanged. */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    return key !== undefined && SECRET_FIELD.test(key) ? REDACTED : redactText(value);
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, redactValue(item, k)]));
}

/** The text with secrets in it replaced: private keys, URL credentials, secret settings. */
export function redactText(text: string): string {
  if (PRIVATE_KEY.test(text)) return REDACTED;
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@]*)@/gi, (_all, scheme: string, userInfo: string) =>
      userInfo.includes(':') ? `${scheme}${userInfo.split(':')[0]}:${REDACTED}@` : `${scheme}${userInfo}@`,
    )
    .replace(SECRET_SETTING, (setting, name: string, separator: string, value: string) => {
      // A value after a space is a flag's only: `--password x`, not `the password stays`.
      if (separator.trim() === '' && !name.startsWith('-')) return setting;
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
      return `${name}${separator}${quote}${REDACTED}${quote}`;
    });
}
