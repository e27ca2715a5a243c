// The undo journal of a group: an append-only JSON-lines file
// (<state-dir>/undo/<group>.jsonl) of the kernel changes made for the group,
// each written and fsynced BEFORE the change is made (rule 5). Whoever
// kills the group (the guard, or the monitor after a clean stop) undoes the
// entries newest first, then clears the journal. A change is therefore
// either undone or still on record, whoever crashes when.
//
// One writer per group: the monitor stops recording for a group before the
// group is killed and undone. Entries appended during an undo are kept.

import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assertGroupName, errnoCode, groupNameProblems, refuseProblems } from './guard-error.js';
import type { GuardProblem } from './guard-error.js';
import { undoEntry, undoEntryProblems } from './undo-actions.js';
import type { UndoEntry } from './undo-actions.js';

export type { UndoEntry } from './undo-actions.js';

const SUFFIX = '.jsonl';

/** Default bound on one undo command, ms. */
const DEFAULT_UNDO_TIMEOUT_MS = 5000;

export interface UndoReport {
  group: string;
  /** Entries undone (already gone counts as undone). */
  undone: number;
  /** Entries that could not be undone; they stay in the journal. */
  failures: { entry: UndoEntry; message: string }[];
  /** Lines that were not valid entries (torn or corrupt); they are dropped. */
  problems: GuardProblem[];
}

export function undoJournalDir(stateDir: string): string {
  return join(stateDir, 'undo');
}

/** Groups that have a journal in `stateDir`. */
export async function journaledGroups(stateDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(undoJournalDir(stateDir));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => n.endsWith(SUFFIX))
    .map((n) => n.slice(0, -SUFFIX.length))
    .filter((g) => groupNameProblems(g).length === 0);
}

export class UndoJournal {
  readonly path: string;
  private readonly dir: string;

  constructor(stateDir: string, readonly group: string) {
    assertGroupName(group);
    this.dir = undoJournalDir(stateDir);
    this.path = join(this.dir, `${group}${SUFFIX}`);
  }

  /** Appends `entry` and fsyncs it; make the change only after this resolves. */
  async record(entry: UndoEntry): Promise<void> {
    refuseProblems('bad undo entry', undoEntryProblems(entry));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = await open(this.path, 'a+', 0o600);
    const { size } = await file.stat().catch(async (err: unknown) => {
      await file.close();
      throw err;
    });
    try {
      // A line torn by a crash must not swallow this one: start on a line of its own.
      const last = Buffer.alloc(1);
      if (size > 0) await file.read(last, 0, 1, size - 1);
      const lead = size > 0 && last[0] !== 0x0a ? '\n' : '';
      await file.write(`${lead}${JSON.stringify(entry)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    if (size === 0) await fsyncDir(this.dir);
  }

  /** The valid entries in order, and a problem for every line that is not one. */
  async read(): Promise<{ entries: UndoEntry[]; problems: GuardProblem[] }> {
    return parseJournal((await readOrNull(this.path)) ?? '');
  }

  /**
   * Undoes every entry, newest first, each bounded by `timeoutMs`; clears
   * the journal when all are undone, else keeps the ones that failed.
   */
  async undo(timeoutMs = DEFAULT_UNDO_TIMEOUT_MS): Promise<UndoReport> {
    const report: UndoReport = { group: this.group, undone: 0, failures: [], problems: [] };
    const text = await readOrNull(this.path);
    if (text === null) return report;
    // Only complete lines are consumed; a tail still being written stays for next time.
    const consumed = text.slice(0, text.lastIndexOf('\n') + 1);
    const { entries, problems } = parseJournal(consumed);
    report.problems = problems;
    const failed: UndoEntry[] = [];
    for (const entry of [...entries].reverse()) {
      try {
        await undoEntry(entry, timeoutMs);
        report.undone++;
      } catch (err) {
        failed.unshift(entry);
        report.failures.push({ entry, message: (err as Error).message });
      }
    }
    const now = (await readOrNull(this.path)) ?? '';
    const appended = now.startsWith(consumed) ? now.slice(consumed.length) : '';
    const keep = failed.map((e) => `${JSON.stringify(e)}\n`).join('') + appended;
    if (keep === '') await unlink(this.path).catch((err: unknown) => ignore(err, 'ENOENT'));
    else await replaceFile(this.path, keep);
    await fsyncDir(this.dir);
    return report;
  }
}

function parseJournal(text: string): { entries: UndoEntry[]; problems: GuardProblem[] } {
  const entries: UndoEntry[] = [];
  const problems: GuardProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // The text after the last newline is an append that never completed: its change was never made.
    if (line === '' || i === lines.length - 1) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push({ code: 'E_CORRUPT', field: `line ${i + 1}`, message: `line ${i + 1} is not JSON` });
      return;
    }
    const bad = undoEntryProblems(value);
    if (bad.length === 0) entries.push(value as UndoEntry);
    else problems.push(...bad.map((p) => ({ ...p, code: 'E_CORRUPT' as const, field: `line ${i + 1}: ${p.field ?? ''}` })));
  });
  return { entries, problems };
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    ignore(err, 'ENOENT');
    return null;
  }
}

/** Write to a temp file, fsync, rename over `path`: readers see the old or the new content, never a mix. */
async function replaceFile(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.write(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignore(err: unknown, code: string): void {
  if (errnoCode(err) !== code) throw err;
}
