// A node's simulated store, with the semantics of the Ready duties in
// types.ts: a snapshot from the leader replaces the whole log; the node's
// own compaction stores a snapshot of applied entries and drops the log up
// to it; entries drop every stored entry at or after their first index and
// append; a hard state replaces the last one. Writes land in an unsynced buffer in order; an
// fsync makes everything written before it durable. A crash keeps a random
// prefix of the unsynced writes, and may tear the last one (only some of
// its entries reached the disk): the store then reports a log ending at the
// last complete entry, as the real store does when it cuts a torn tail.
import type { Entry, HardState, RestoredState, Snapshot } from '../../src/agent/consensus/types.js';
import type { SimRng } from './rng.js';

export type StoreWrite =
  /** Ready.snapshot: install a leader's snapshot, discarding the whole stored log. */
  | { kind: 'snapshot'; snapshot: Snapshot }
  /** Compaction: store a snapshot of applied entries; the entries after it stay. */
  | { kind: 'compact'; snapshot: Snapshot }
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'hard-state'; hardState: HardState };

export interface StoreState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[];
}

export interface CrashOutcome {
  /** Unsynced writes lost (whole or in part). */
  lostWrites: number;
  /** The last kept write was cut part-way (a torn tail). */
  torn: boolean;
}

export class SimDisk {
  private durable: StoreState = emptyStore();
  private readonly unsynced: StoreWrite[] = [];
  /** Writes ever made, and how many of them are durable. */
  private written = 0;
  private synced = 0;

  get isEmpty(): boolean {
    const d = this.durable;
    return this.unsynced.length === 0 && d.snapshot === null && d.entries.length === 0 && d.hardState.term === 0;
  }

  /** Buffers a write; returns the mark an fsync issued now would cover. */
  write(w: StoreWrite): number {
    this.unsynced.push(structuredClone(w));
    this.written++;
    return this.written;
  }

  get writeMark(): number {
    return this.written;
  }

  /** An fsync covering every write up to `mark` completed. */
  syncTo(mark: number): void {
    while (this.synced < mark) {
      const w = this.unsynced.shift();
      if (w === undefined) break;
      applyWrite(this.durable, w);
      this.synced++;
    }
  }

  get syncedMark(): number {
    return this.synced;
  }

  /**
   * Loses unsynced writes. The disk keeps a random prefix of what was
   * written, counted in entries (a hard state or a snapshot is one unit):
   * a cut inside a multi-entry write leaves a torn tail, which the store
   * trims to the last complete entry.
   */
  crash(rng: SimRng): CrashOutcome {
    const pending = this.unsynced.splice(0);
    const units = pending.map((w) => (w.kind === 'entries' ? w.entries.length : 1));
    let keepUnits = rng.int(0, units.reduce((a, b) => a + b, 0));
    let lostWrites = 0;
    let torn = false;
    for (const w of pending) {
      const size = w.kind === 'entries' ? w.entries.length : 1;
      if (keepUnits >= size) {
        applyWrite(this.durable, w);
      } else if (keepUnits > 0 && w.kind === 'entries') {
        applyWrite(this.durable, { kind: 'entries', entries: w.entries.slice(0, keepUnits) });
        torn = true;
        lostWrites++;
      } else {
        lostWrites++;
      }
      keepUnits = Math.max(0, keepUnits - size);
    }
    this.synced = this.written;
    return { lostWrites, torn };
  }

  restore(): RestoredState {
    const d = structuredClone(this.durable);
    return { hardState: d.hardState, snapshot: d.snapshot, entries: d.entries, logCorrupt: false };
  }

  /** Everything written so far, synced or not (what a running node reads back). */
  current(): StoreState {
    const view = structuredClone(this.durable);
    for (const w of this.unsynced) applyWrite(view, w);
    return view;
  }
}

function emptyStore(): StoreState {
  return { hardState: { term: 0, votedFor: null, commit: 0 }, snapshot: null, entries: [] };
}

function applyWrite(s: StoreState, w: StoreWrite): void {
  switch (w.kind) {
    case 'snapshot':
      s.snapshot = w.snapshot;
      s.entries = [];
      return;
    case 'compact': {
      // A compaction overtaken by a newer snapshot, or by a log that moved on, does nothing.
      const { index, term } = w.snapshot.meta;
      const base = s.snapshot?.meta.index ?? 0;
      if (index <= base || s.entries[index - base - 1]?.term !== term) return;
      s.snapshot = w.snapshot;
      s.entries = s.entries.slice(index - base);
      return;
    }
    case 'entries': {
      const first = w.entries[0];
      if (first === undefined) return;
      const base = s.snapshot?.meta.index ?? 0;
      const last = base + s.entries.length;
      if (first.index <= base || first.index > last + 1) {
        throw new Error(`store: entries from ${first.index} do not fit a log holding ${base + 1}..${last}`);
      }
      s.entries.length = first.index - base - 1;
      s.entries.push(...w.entries);
      return;
    }
    case 'hard-state':
      s.hardState = w.hardState;
      return;
  }
}
