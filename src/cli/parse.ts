// Values typed on the command line: durations and names. Kept small and
// CLI-facing; the cluster database validates its own records separately.
import { UsageError } from './errors.js';

const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

const DURATION_HINT = 'write a whole number with a unit: 500ms, 5s, 10m or 1h';

/** `500ms`, `5s`, `10m`, `1h` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) {
    const why = /^\d+$/.test(text) ? 'it has no unit' : 'it is not a duration';
    throw new UsageError(`invalid duration '${text}': ${why}`, DURATION_HINT);
  }
  const ms = Number(match[1]) * (MS_PER_UNIT[match[2] ?? ''] ?? NaN);
  if (!Number.isSafeInteger(ms)) throw new UsageError(`invalid duration '${text}': too long`, DURATION_HINT);
  return ms;
}

/** Longest name accepted, in characters; long enough for host names' first label. */
export const MAX_NAME_LENGTH = 63;

const NAME_HINT = "use letters, digits, '-', '_' and '.', starting with a letter or digit";

/**
 * A cluster, node, group, resource or disk name. Every problem is named in
 * one message, so one retry fixes the name.
 * @param what what the name names, for the message (`group`, `node`, ...)
 */
export function parseName(text: string, what = 'name'): string {
  const problems = nameProblems(text);
  const label = what === 'name' ? 'name' : `${what} name`;
  if (problems.length > 0) throw new UsageError(`invalid ${label} '${text}': ${problems.join('; ')}`, NAME_HINT);
  return text;
}

/** A comma-separated list of names (`n1,n2`); every bad name is reported. */
export function parseNames(text: string, what = 'name'): string[] {
  const names = text.split(',');
  const bad = names.flatMap((name) => {
    const problems = nameProblems(name);
    return problems.length === 0 ? [] : [`'${name}': ${problems.join('; ')}`];
  });
  const label = what === 'name' ? 'names' : `${what} names`;
  if (bad.length > 0) throw new UsageError(`invalid ${label} in '${text}': ${bad.join(', ')}`, NAME_HINT);
  return names;
}

function nameProblems(text: string): string[] {
  const problems: string[] = [];
  if (text.length === 0) problems.push('it is empty');
  if (text.length > MAX_NAME_LENGTH) problems.push(`it is longer than ${MAX_NAME_LENGTH} characters`);
  if (/^[-.]/.test(text)) problems.push(`it starts with '${text[0]}'`);
  const refused = [...new Set(text.replace(/[A-Za-z0-9._-]/g, ''))];
  if (refused.length > 0) {
    const shown = refused.map((ch) => (ch === ' ' ? 'space' : `'${ch}'`)).join(', ');
    problems.push(`${shown} ${refused.length === 1 ? 'is' : 'are'} not allowed`);
  }
  return problems;
}

/** A whole number ≥ 1, such as a node count. */
export function parseCount(text: string, what = 'count'): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`invalid ${what} '${text}': expected a whole number of at least 1`);
  }
  return n;
}
