import { visit } from 'jsonc-parser';

/**
 * The first key that appears twice in one object of a JSON text, as a
 * dotted path (`profile.instance.tags`), or undefined. JSON.parse keeps the last
 * one silently; a request that says two things about one field is refused.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const objects: Set<string>[] = [];
  let duplicate: string | undefined;
  visit(text, {
    onObjectBegin: () => {
      objects.push(new Set());
    },
    onObjectEnd: () => {
      objects.pop();
    },
    onObjectProperty: (property, _offset, _length, _line, _character, pathSupplier) => {
      const keys = objects.at(-1);
      if (duplicate !== undefined || !keys) return;
      if (keys.has(property)) duplicate = [...pathSupplier(), property].join('.');
      keys.add(property);
    },
  });
  return duplicate;
}
