// The in-memory Raft log: a snapshot prefix plus the entries after it, and
// two pointers that tie it to what the caller has stored:
// - `unstableFrom`: the first index not yet handed out in a Ready;
// - `persistedIndex`: the durable log equals this log up to here (advanced
//   by advance(), pulled back by truncation).

import { emptyMembership } from './membership.js';
import type { Entry, Membership, Snapshot, SnapshotMeta } from './types.js';

export class RaftLog {
  /** The latest snapshot, kept to send to followers that lag behind it. */
  private snap: Snapshot | null;
  private meta: SnapshotMeta;
  /** entries[i].index === meta.index + 1 + i */
  private entries: Entry[];
  unstableFrom: number;
  persistedIndex: number;

  constructor(snapshot: Snapshot | null, entries: Entry[]) {
    this.snap = snapshot;
    this.meta = snapshot?.meta ?? { index: 0, term: 0, membership: emptyMembership };
    // Terms never decrease along a log: entries below the snapshot's term are
    // leftovers the store should have discarded with the snapshot.
    let prevTerm = this.meta.term;
    entries.forEach((e, i) => {
      if (e.index !== this.meta.index + 1 + i) {
        throw new RangeError(`restored log is not contiguous: entry ${e.index} at position ${i} after snapshot ${this.meta.index}`);
      }
      if (e.term < prevTerm) throw new RangeError(`restored log: entry ${e.index} has term ${e.term} after term ${prevTerm}`);
      prevTerm = e.term;
    });
    this.entries = [...entries];
    this.unstableFrom = this.lastIndex + 1;
    this.persistedIndex = this.lastIndex;
  }

  get snapshot(): Snapshot | null {
    return this.snap;
  }
  get snapshotIndex(): number {
    return this.meta.index;
  }
  get snapshotTerm(): number {
    return this.meta.term;
  }
  get firstIndex(): number {
    return this.meta.index + 1;
  }
  get lastIndex(): number {
    return this.meta.index + this.entries.length;
  }
  get lastTerm(): number {
    return this.term(this.lastIndex) ?? 0;
  }

  /** Term of the entry at `index`; undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.meta.index) return this.meta.term;
    return this.entry(index)?.term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.meta.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /**
   * The largest index <= `index` whose term is <= `term`: no entry above it
   * can match a log whose entry at `index` has `term`. When even the
   * snapshot's last entry is of a later term, the answer lies below the
   * snapshot: `snapshotIndex - 1` says so (the leader then sends it).
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex);
    while (i > this.meta.index && (this.term(i) ?? 0) > term) i--;
    if (i === this.meta.index && this.meta.term > term && i > 0) return i - 1;
    return i;
  }

  /** Entries in [from, to], at most `maxCount` and about `maxBytes` of data (always at least one). */
  slice(from: number, to: number, maxCount = Infinity, maxBytes = Infinity): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = Math.max(from, this.firstIndex); i <= Math.min(to, this.lastIndex) && out.length < maxCount; i++) {
      const e = this.entry(i);
      if (!e) break;
      bytes += utf8Length(e.data);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entry: Omit<Entry, 'index'>): Entry {
    const e: Entry = { index: this.lastIndex + 1, ...entry };
    this.entries.push(e);
    return e;
  }

  /**
   * Append entries received from a leader after `prevIndex` (which matched),
   * skipping those already present and truncating at the first conflict.
   * Returns the index of the first truncated entry, or null.
   */
  appendFromLeader(entries: Entry[]): number | null {
    let truncatedAt: number | null = null;
    for (const e of entries) {
      if (e.index <= this.meta.index) continue;
      const ours = this.term(e.index);
      if (ours === e.term) continue;
      if (ours !== undefined && truncatedAt === null) {
        truncatedAt = e.index;
        this.truncateFrom(e.index);
      }
      if (e.index !== this.lastIndex + 1) throw new RangeError(`append of entry ${e.index} after ${this.lastIndex}`);
      this.entries.push({ index: e.index, term: e.term, kind: e.kind, data: e.data });
    }
    return truncatedAt;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.meta.index - 1;
    this.unstableFrom = Math.min(this.unstableFrom, index);
    this.persistedIndex = Math.min(this.persistedIndex, index - 1);
  }

  /** Replace the whole log by a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.persistedIndex = Math.min(this.persistedIndex, this.meta.index);
    this.snap = snapshot;
    this.meta = snapshot.meta;
    this.entries = [];
    this.unstableFrom = this.lastIndex + 1;
  }

  /** The caller stored `snapshot` (covering our entries up to its index): drop them. */
  compact(snapshot: Snapshot): void {
    this.entries = this.entries.slice(snapshot.meta.index - this.meta.index);
    this.snap = snapshot;
    this.meta = snapshot.meta;
    this.unstableFrom = Math.max(this.unstableFrom, this.firstIndex);
    this.persistedIndex = Math.max(this.persistedIndex, this.meta.index);
  }

  /** Entries not yet handed out in a Ready; they are handed out now. */
  takeUnstable(): Entry[] {
    const out = this.entries.slice(this.unstableFrom - this.meta.index - 1);
    this.unstableFrom = this.lastIndex + 1;
    return out;
  }

  /** The caller stored entries up to (index, term); ignored if the log changed since. */
  markPersisted(index: number, term: number): void {
    if (this.matchTerm(index, term)) this.persistedIndex = Math.max(this.persistedIndex, index);
  }

  markSnapshotPersisted(meta: SnapshotMeta): void {
    if (meta.index === this.meta.index && meta.term === this.meta.term) {
      this.persistedIndex = Math.max(this.persistedIndex, meta.index);
    }
  }

  /** The configuration in effect at `index`, and the index of the config entry it came from (0: the snapshot). */
  membershipAt(index: number): { membership: Membership; index: number } {
    for (let i = Math.min(index, this.lastIndex); i > this.meta.index; i--) {
      const e = this.entry(i);
      if (e?.kind === 'config') return { membership: JSON.parse(e.data) as Membership, index: i };
    }
    return { membership: this.meta.membership, index: 0 };
  }
}

/** Bytes of `s` encoded as UTF-8, without allocating. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
