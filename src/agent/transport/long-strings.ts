// Long strings taken out of a message and put back, so that a large
// message crosses between the event loop and the codec worker in pieces:
// copying a 64 MiB string between threads in one go stalls the loop for
// ~100-200 ms, one 1 Mi-char piece at a time for ~1-2 ms each. The bulk of
// a snapshot is one long string (the serialized state), so this is where
// its size is.

/** Keys and indexes from the message root down to one value. */
export type ValuePath = (string | number)[];

export interface DetachedStrings {
  /** The message with each long string replaced by ''; objects on the way to one are copies, the rest is shared. */
  skeleton: object;
  paths: ValuePath[];
  /** The strings taken out, in the order of `paths`. */
  strings: string[];
  /** A lower bound on the message's JSON size, bytes (string lengths, quotes, one byte per other value). */
  bytesAtLeast: number;
}

/** Takes every string of at least `minChars` out of `message`, without changing it. Walks the whole message. */
export function detachLongStrings(message: object, minChars: number): DetachedStrings {
  const paths: ValuePath[] = [];
  const strings: string[] = [];
  const path: ValuePath = [];
  let bytes = 0;

  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      bytes += value.length + 2;
      if (value.length < minChars) return value;
      paths.push([...path]);
      strings.push(value);
      return '';
    }
    if (typeof value !== 'object' || value === null) {
      bytes += 1;
      return value;
    }
    if (Array.isArray(value)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const next = walk(value[i]);
        path.pop();
        if (next !== value[i]) (copy ??= value.slice())[i] = next;
      }
      bytes += value.length + 1;
      return copy ?? value;
    }
    let copy: Record<string, unknown> | null = null;
    let keys = 0;
    for (const [key, field] of Object.entries(value)) {
      // JSON leaves such fields out; counting them would make the bound too high.
      if (field === undefined || typeof field === 'function') continue;
      path.push(key);
      const next = walk(field);
      path.pop();
      if (next !== field) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
      bytes += key.length + 3;
      keys++;
    }
    bytes += keys + 1;
    return copy ?? value;
  };

  const skeleton = walk(message) as object;
  return { skeleton, paths, strings, bytesAtLeast: bytes };
}

/** Puts `strings` back at `paths` in `skeleton` (which it changes: pass a copy of your own). */
export function attachStrings(skeleton: object, paths: readonly ValuePath[], strings: readonly string[]): void {
  paths.forEach((path, i) => {
    let parent: unknown = skeleton;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
    const last = path.at(-1);
    if (last === undefined || typeof parent !== 'object' || parent === null) throw new Error('attachStrings: path does not fit the skeleton');
    (parent as Record<string | number, unknown>)[last] = strings[i];
  });
}

/** Cuts `text` into pieces of at most `maxChars` UTF-16 units (2 when maxChars is 1), never between the halves of a surrogate pair. */
export function splitText(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxChars);
    const last = text.charCodeAt(end - 1);
    // Ending on the first half of a pair: end before it, or (a 1-char limit) after its partner.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += end - start > 1 ? -1 : 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
