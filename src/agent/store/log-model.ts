// What the store holds, in memory, to check each update against the log's
// rules before anything is written: the snapshot's position, the term of
// every entry after it, and the last hard state accepted. Updates are
// checked and applied in call order, so a queued save is checked against
// the saves queued before it.
import type { Entry, EntryKind, HardState, Snapshot, SnapshotMeta } from '../consensus/types.js';
import { MAX_VOTED_FOR_BYTES } from './hard-state-file.js';
import { entryPayloadBytes, MAX_PAYLOAD_BYTES } from './records.js';

const KINDS: ReadonlySet<EntryKind> = new Set(['noop', 'command', 'config']);
/** A lone UTF-16 surrogate does not survive UTF-8: refuse it rather than store a changed string. */
const LONE_SURROGATE = /\p{Surrogate}/u;

export interface StoreUpdate {
  snapshot: Snapshot | null;
  entries: Entry[];
  hardState: HardState | null;
}

interface LogPosition {
  snapshotIndex: number;
  snapshotTerm: number;
  /** Terms of the entries snapshotIndex + 1, snapshotIndex + 2, ... */
  terms: number[];
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function termAt(log: LogPosition, index: number): number | undefined {
  return index === log.snapshotIndex ? log.snapshotTerm : log.terms[index - log.snapshotIndex - 1];
}

/** An installed snapshot replaces the whole log (the core sends one only when its log lacks the snapshot's last entry). */
function afterInstall(meta: SnapshotMeta): LogPosition {
  return { snapshotIndex: meta.index, snapshotTerm: meta.term, terms: [] };
}

/** A compacted snapshot matches the log at its index: the entries after it stay. */
function afterCompact(log: LogPosition, meta: SnapshotMeta): LogPosition {
  return { snapshotIndex: meta.index, snapshotTerm: meta.term, terms: log.terms.slice(meta.index - log.snapshotIndex) };
}

function snapshotProblems(snapshot: Snapshot, log: LogPosition): string[] {
  const meta = snapshot.meta as Partial<SnapshotMeta> | null;
  if (typeof meta !== 'object' || meta === null || !isCount(meta.index, 1) || !isCount(meta.term, 1)) {
    return ['snapshot meta needs integer index >= 1 and term >= 1'];
  }
  const problems: string[] = [];
  if (!Array.isArray(meta.membership?.members)) problems.push('snapshot meta has no membership');
  if (typeof snapshot.data !== 'string' || LONE_SURROGATE.test(snapshot.data)) problems.push('snapshot data must be a well-formed string');
  if (meta.index < log.snapshotIndex) problems.push(`snapshot ${meta.index} is older than the stored snapshot ${log.snapshotIndex}`);
  if (meta.index === log.snapshotIndex && meta.term !== log.snapshotTerm) {
    problems.push(`snapshot ${meta.index} has term ${meta.term}, the stored one at that index has ${log.snapshotTerm}`);
  }
  return problems;
}

function entryProblems(entries: Entry[], log: LogPosition): string[] {
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const at = `entries[${i}]`;
    if (!isCount(entry.index, 1) || !isCount(entry.term, 1)) problems.push(`${at}: index and term must be integers >= 1`);
    if (!KINDS.has(entry.kind)) problems.push(`${at}: unknown kind ${String(entry.kind)}`);
    if (typeof entry.data !== 'string' || LONE_SURROGATE.test(entry.data)) problems.push(`${at}: data must be a well-formed string`);
    else if (entryPayloadBytes(entry) > MAX_PAYLOAD_BYTES) problems.push(`${at}: data over ${MAX_PAYLOAD_BYTES} bytes`);
    const previous = entries[i - 1];
    if (previous === undefined) return;
    if (entry.index !== previous.index + 1) problems.push(`${at}: index ${entry.index} does not follow ${previous.index}`);
    if (entry.term < previous.term) problems.push(`${at}: term ${entry.term} is below the previous ${previous.term}`);
  });
  const first = entries[0];
  if (first === undefined || problems.length > 0) return problems;
  const lastIndex = log.snapshotIndex + log.terms.length;
  if (first.index <= log.snapshotIndex) problems.push(`entry ${first.index} is at or below the snapshot index ${log.snapshotIndex}`);
  else if (first.index > lastIndex + 1) problems.push(`entry ${first.index} leaves a gap after the last index ${lastIndex}`);
  else if (first.term < termAt(log, first.index - 1)!) {
    problems.push(`entry ${first.index} has term ${first.term}, below the term ${termAt(log, first.index - 1)!} of the entry before it`);
  }
  return problems;
}

function hardStateProblems(next: HardState, accepted: HardState): string[] {
  if (!isCount(next.term, 0) || !isCount(next.commit, 0)) return ['hardState: term and commit must be integers >= 0'];
  const problems: string[] = [];
  if (next.votedFor !== null && (typeof next.votedFor !== 'string' || Buffer.byteLength(next.votedFor) > MAX_VOTED_FOR_BYTES)) {
    problems.push(`hardState: votedFor must be null or a string of at most ${MAX_VOTED_FOR_BYTES} bytes`);
  }
  if (next.term < accepted.term) problems.push(`hardState: term ${next.term} is below the stored ${accepted.term}`);
  if (next.term === accepted.term && accepted.votedFor !== null && next.votedFor !== accepted.votedFor) {
    problems.push(`hardState: the vote of term ${next.term} is already cast for ${accepted.votedFor}`);
  }
  return problems;
}

export class LogModel {
  private log: LogPosition;

  constructor(snapshot: SnapshotMeta | null, entries: Entry[], private hardState: HardState) {
    this.log = { snapshotIndex: snapshot?.index ?? 0, snapshotTerm: snapshot?.term ?? 0, terms: entries.map((e) => e.term) };
  }

  /** Every reason `update` cannot be stored; empty when it can. */
  checkSave(update: StoreUpdate): string[] {
    const problems: string[] = [];
    let log = this.log;
    if (update.snapshot !== null) {
      const found = snapshotProblems(update.snapshot, log);
      problems.push(...found);
      if (found.length === 0) log = afterInstall(update.snapshot.meta);
    }
    problems.push(...entryProblems(update.entries, log));
    if (update.hardState !== null) problems.push(...hardStateProblems(update.hardState, this.hardState));
    return problems;
  }

  applySave(update: StoreUpdate): void {
    if (update.snapshot !== null) this.log = afterInstall(update.snapshot.meta);
    const first = update.entries[0];
    if (first !== undefined) {
      this.log.terms.length = first.index - this.log.snapshotIndex - 1;
      for (const entry of update.entries) this.log.terms.push(entry.term);
    }
    if (update.hardState !== null) this.hardState = update.hardState;
  }

  /** Every reason `snapshot` of applied state cannot replace the log up to its index. */
  checkCompact(snapshot: Snapshot): string[] {
    const problems = snapshotProblems(snapshot, this.log);
    if (problems.length > 0) return problems;
    const { index, term } = snapshot.meta;
    const lastIndex = this.log.snapshotIndex + this.log.terms.length;
    if (index > lastIndex) return [`snapshot ${index} is beyond the last stored index ${lastIndex}`];
    const stored = termAt(this.log, index);
    if (stored !== term) return [`snapshot ${index} has term ${term}, the stored entry has ${String(stored)}`];
    return [];
  }

  applyCompact(snapshot: Snapshot): void {
    this.log = afterCompact(this.log, snapshot.meta);
  }
}
