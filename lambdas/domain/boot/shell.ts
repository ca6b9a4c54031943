/**
 * Writing bash that carries untrusted text as data. Every profile value
 * that reaches a script goes through shellQuote(), and only there.
 */
import { ValidationError } from '../errors.ts';

/**
 * One bash word that stands for `value` exactly: single quotes, each `'`
 * written as `'\''`. Nothing inside single quotes is expanded (no `$`,
 * backticks, `\`, `%` or globbing), and newlines are kept.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    throw new ValidationError(
      'a value meant for the instance contains a NUL character, which bash cannot hold',
    );
  }
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * `cat > path <<'DELIM'` with a constant body: a quoted delimiter, so bash
 * expands nothing in it. Only for text bilbo writes itself, never profile text.
 */
export function writeFile(path: string, body: string, mode: string): string {
  const delimiter = 'BILBO_EOF';
  if (body.split('\n').includes(delimiter)) throw new Error(`the body of ${path} contains ${delimiter}`);
  const text = body.endsWith('\n') ? body : `${body}\n`;
  return `cat >${path} <<'${delimiter}'\n${text}${delimiter}\nchmod ${mode} ${path}`;
}

/** A command split over lines: `first \` then each argument on its own line. */
export function continued(first: string, args: readonly string[], tail: string): string {
  return [first, ...args.map((arg) => `  ${arg}`), `  ${tail}`].join(' \\\n');
}
