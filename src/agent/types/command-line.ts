// Command lines in resource parameters (`command`, `env`, a probe command)
// are split into words as a POSIX shell would for plain words, and run
// without a shell: no expansion of any kind, so a parameter value can never
// smuggle in a second command.

/**
 * Spaces separate words, '...' is literal, "..." allows \" and \\, a
 * backslash outside quotes escapes the next character. Null when a quote is
 * left open.
 */
export function splitWords(line: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return null;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        text += line[j];
      }
      if (j >= line.length) return null;
      word = (word ?? '') + text;
      i = j;
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** `NAME=value NAME2='a b'` into a record; a string says what is wrong. */
export function parseEnvAssignments(text: string): Record<string, string> | string {
  const words = splitWords(text);
  if (words === null) return 'has an unbalanced quote';
  const env: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = word.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `${JSON.stringify(word)} is not NAME=value`;
    env[name] = word.slice(eq + 1);
  }
  return env;
}
