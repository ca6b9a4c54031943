import { describe, expect, it } from 'vitest';
import {
  formatCursor,
  parseCursor,
  tailOf,
  wholeCharacters,
} from '../../../../lambdas/domain/commands/output.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('the output cursor', () => {
  it('starts every invocation at 0:0 and reads back what it wrote', () => {
    expect(parseCursor(undefined, 2)).toEqual([
      { stdout: 0, stderr: 0 },
      { stdout: 0, stderr: 0 },
    ]);
    const offsets = [
      { stdout: 1_048_577, stderr: 3 },
      { stdout: 0, stderr: 12 },
    ];
    expect(parseCursor(formatCursor(offsets), 2)).toEqual(offsets);
  });

  it.each(['garbage', '1:2', '1:2,3', '-1:0', '1:2;3:4', '%00', '1:2,3:4,5:6', '9999999999999:0'])(
    'refuses %j for a command of two invocations, naming offset',
    (text) => {
      expect(() => parseCursor(text, 2)).toThrow(ValidationError);
      expect(() => parseCursor(text, 2)).toThrow(/^offset: /);
    },
  );
});

describe('wholeCharacters', () => {
  it('leaves a character split across reads for the next read, whatever its length', () => {
    for (const character of ['é', '€', '🦀']) {
      const encoded = bytes(`ab${character}`);
      for (let cut = 3; cut < encoded.length; cut++) {
        const first = wholeCharacters(encoded.subarray(0, cut), false);
        expect(first).toEqual({ text: 'ab', bytes: 2 });
        expect(wholeCharacters(encoded.subarray(first.bytes), false).text).toBe(character);
      }
    }
  });

  it('decodes a broken end once nothing more will come', () => {
    expect(wholeCharacters(bytes('ok€').subarray(0, 3), true)).toEqual({ text: 'ok\uFFFD', bytes: 3 });
  });
});

describe('tailOf', () => {
  it('keeps the last lines, at most the given characters', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    expect(tailOf(text, 3)).toBe('line 47\nline 48\nline 49');
    expect(tailOf('x'.repeat(5_000)).length).toBe(2_000);
  });
});
