import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, writeFile } from '../../../../lambdas/domain/boot/shell.ts';
import { renderUnit } from '../../../../lambdas/domain/boot/systemd.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';

/** What bash makes of one word: the bytes it passes to printf. */
function bashWord(word: string): string {
  return spawnSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' }).stdout;
}

describe('shellQuote', () => {
  it("wraps a value in single quotes and writes each quote as '\\''", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });

  it.each([
    '$(touch /tmp/pwned)',
    '`touch /tmp/pwned`',
    "'; rm -rf / #",
    '"',
    '\\',
    "\\'",
    'two\nlines\n',
    '%s %h %n %%',
    `\${HOME} $HOME * ?`,
    '-n',
    '',
    '🎉 é 漢',
  ])('makes one bash word that stands for %j exactly', (value) => {
    expect(bashWord(shellQuote(value))).toBe(value);
  });

  it('refuses NUL, which no bash string can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(ValidationError);
  });
});

describe('writeFile', () => {
  it('writes constant text through a quoted here-document and sets the mode', () => {
    expect(writeFile('/opt/x', 'echo "$HOME"', '0755')).toBe(
      'cat >/opt/x <<\'BILBO_EOF\'\necho "$HOME"\nBILBO_EOF\nchmod 0755 /opt/x',
    );
  });

  it('refuses a body that would end the here-document early', () => {
    expect(() => writeFile('/opt/x', 'a\nBILBO_EOF\nb', '0644')).toThrow(/BILBO_EOF/);
  });
});

describe('renderUnit', () => {
  it('runs the service as the given user and group', () => {
    const unit = renderUnit({ description: 'bilbo x', user: 'svc', execStart: '/opt/x' });

    expect(unit).toContain('\nUser=svc\nGroup=svc\n');
  });

  it('refuses text systemd would interpret, such as a % specifier or a newline', () => {
    expect(() => renderUnit({ description: 'bilbo %h', user: 'svc', execStart: '/opt/x' })).toThrow(/unsafe/);
    expect(() =>
      renderUnit({ description: 'bilbo', user: 'svc', execStart: '/opt/x\nExecStartPost=/bin/sh' }),
    ).toThrow(/unsafe/);
  });
});
