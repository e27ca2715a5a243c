// Human and JSON renderings of command results. Pure: strings in, a string
// out; run.ts decides where it goes.
import { createRequire } from 'node:module';
import type CliTable3 from 'cli-table3';

/** A table cell: states are shown as the words themselves (`online`, `failed`). */
export type Cell = string | number | boolean | null | undefined;

/** Shown for a missing value, so columns never look shifted. */
const MISSING = '-';

/** Space between columns, in characters. */
const GAP = 2;

const show = (cell: Cell): string => (cell === null || cell === undefined || cell === '' ? MISSING : String(cell));

/**
 * Aligned columns without borders, like `ps` or `kubectl get`:
 *
 *     NAME  STATE   OWNER
 *     web   online  node1
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  // cli-table3 is CommonJS and costs ~8 ms to load: load it only when a table is drawn.
  const Table = createRequire(import.meta.url)('cli-table3') as typeof CliTable3;
  const table = new Table({
    head: [...headers],
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '',
    },
    // No colour: output is read by people and by grep alike.
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': GAP },
  });
  for (const row of rows) table.push(headers.map((_, i) => show(row[i])));
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n') + '\n';
}

/** `key: value` lines with the values aligned. */
export function renderKeyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length + 1));
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(width + GAP - 1)}${show(value)}\n`).join('');
}

/** One JSON document, 2-space indent, newline-terminated. */
export function renderJson(data: unknown): string {
  return `${JSON.stringify(data ?? null, null, 2)}\n`;
}
