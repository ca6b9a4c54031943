/**
 * A command's output as the API hands it out: byte offsets per invocation
 * and stream (the cursor), cut at whole UTF-8 characters so a character
 * split across two reads arrives whole in the second.
 */
import { ValidationError } from '../errors.ts';
import type { OutputOffsets } from '../ports.ts';

const CURSOR = /^\d{1,12}:\d{1,12}(,\d{1,12}:\d{1,12})*$/;

/** The cursor's offsets, one pair per invocation; absent: all from the start. */
export function parseCursor(text: string | undefined, invocations: number): OutputOffsets[] {
  if (text === undefined || text === '') return Array.from({ length: invocations }, () => start());
  const pairs = CURSOR.test(text) ? text.split(',') : [];
  if (pairs.length !== invocations) {
    throw new ValidationError(
      `offset: must be the \`next\` this API returned for the command: ${invocations} pair(s) of byte offsets like 0:0 (got ${JSON.stringify(text.slice(0, 80))})`,
      { field: 'offset' },
    );
  }
  return pairs.map((pair) => {
    const [stdout, stderr] = pair.split(':').map(Number) as [number, number];
    return { stdout, stderr };
  });
}

export function formatCursor(offsets: readonly OutputOffsets[]): string {
  return offsets.map((o) => `${o.stdout}:${o.stderr}`).join(',');
}

function start(): OutputOffsets {
  return { stdout: 0, stderr: 0 };
}

/**
 * The text of the whole characters at the start of `bytes`, and how many
 * bytes they take. An incomplete character at the end is left for the next
 * read, unless `ended` (nothing more will come): it then decodes as U+FFFD.
 */
export function wholeCharacters(bytes: Uint8Array, ended: boolean): { text: string; bytes: number } {
  const used = ended ? bytes.length : bytes.length - incompleteTail(bytes);
  return { text: new TextDecoder('utf-8').decode(bytes.subarray(0, used)), bytes: used };
}

/** How many bytes at the end of `bytes` begin a character that is not complete yet (0 to 3). */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/** The last lines of some output, at most `maxChars`, to keep with the record. */
export function tailOf(text: string, maxLines = 20, maxChars = 2_000): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const tail = lines.slice(-maxLines).join('\n');
  return tail.length > maxChars ? tail.slice(tail.length - maxChars) : tail;
}
