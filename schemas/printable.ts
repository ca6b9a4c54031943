/**
 * Text a terminal shows as it is: no C0 or C1 control characters (escape
 * sequences, carriage returns, bells), which a string another user wrote
 * could use to rewrite a terminal. The API refuses them in what it stores
 * (the schemas' `printable` format) and the CLI escapes them in what it prints.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function isPrintable(text: string): boolean {
  return !new RegExp(CONTROL_CHARACTERS.source).test(text);
}

/** The text with each control character written out as `\u001b`. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
