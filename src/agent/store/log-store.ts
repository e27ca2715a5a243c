// LogStore: one node's crash-safe store for its Raft log, hard state and
// snapshots.
//
// Format (a directory):
//   segment-<seq>.log    the log: framed records appended in order (records.ts).
//                        Each frame is u32 length, u32 CRC-32C (over length and
//                        payload), payload. A segment starts with a header
//                        record naming its seq; once past `segmentBytes` the
//                        next record starts segment seq+1. Entry records carry
//                        (index, term, kind, data); an entry at an index already
//                        held replaces it and all after it, so a conflicting
//                        suffix is dropped by appending, never by rewriting.
//                        A snapshot-mark record says a snapshot up to (index,
//                        term) is durable: an installed one (from save())
//                        discards every entry before it, a compacted one only
//                        those up to its index.
//   snapshot-<index>.snap  whole snapshots (snapshot-file.ts): temp file,
//                        fsync, rename, fsync dir. The newest two valid ones
//                        are kept, so a damaged newest one can fall back.
//   hardstate            term, vote, commit hint in two 512-byte checksummed
//                        slots overwritten in place (hard-state-file.ts): a
//                        vote change goes to both, one after the other, so a
//                        torn or rotten slot never loses a vote.
//
// Why segments with checksums rather than SQLite: the log is append-only and
// read back only at start, which is exactly what a segmented write-ahead log
// does well. One write and one fdatasync commit any number of queued saves
// (group commit), torn tails are told from corruption by where a bad
// checksum sits, and every byte's meaning is written here, with no native
// dependency and no second layer of journaling under our own.
//
// Durability: save() with sync resolves only after fdatasync of the segment
// and (for a term or vote change) of the hard-state file, and an fsync of
// the directory if a file was created. All I/O is fs.promises (libuv's
// thread pool). Saves run one batch at a time in call order; saves queued
// while a batch is being written and synced go together in the next batch,
// with one fsync. compact() writes its snapshot file beside that queue and
// queues only the mark, so saves do not wait for a large snapshot.
//
// Recovery: see recovery.ts. A torn tail is cut and reported; corruption
// anywhere else is reported, reading stops before it, `logCorrupt` is set,
// and the store refuses writes so the files stay as they are for repair.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState, RestoredState, Snapshot } from '../consensus/types.js';
import { snapshotFileName } from './file-names.js';
import { isNotFound } from './fs-durable.js';
import { LogModel } from './log-model.js';
import type { StoreUpdate } from './log-model.js';
import { openDirectory } from './open-directory.js';
import type { RecoveryReport, Writers } from './open-directory.js';
import { encodeEntry, encodeSnapshotMark } from './records.js';
import type { EncodedRecord } from './segment-log.js';
import { writeSnapshotFile } from './snapshot-file.js';
import { StoreError } from './store-error.js';

export type { StoreUpdate } from './log-model.js';
export type { RecoveryReport } from './open-directory.js';
export type { CorruptRecord, TornTail } from './recovery.js';
export { describeCorruptRecord } from './recovery.js';
export { StoreError } from './store-error.js';
export type { StoreErrorCode } from './store-error.js';

/** Default segment size limit: 8 MiB (bytes). Smaller segments free disk sooner after a snapshot. */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

export interface LogStoreOptions {
  /** A segment is closed once the next record would take it past this size (bytes). */
  segmentBytes?: number;
}

interface PendingWrite {
  records: EncodedRecord[];
  /** A snapshot to write to its file before the records (one installed by save()). */
  snapshot: Snapshot | null;
  /** Index of a snapshot made durable by this write: segments and older snapshot files it covers go after it. */
  covers: number | null;
  hardState: HardState | null;
  sync: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class LogStore {
  private queue: PendingWrite[] = [];
  private flushing: Promise<void> | null = null;
  /** compact() snapshot files being written, one after another, beside the save queue. */
  private snapshotWrites: Promise<void> = Promise.resolve();
  private failure: StoreError | null = null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    /** Null when the log was found corrupt: the store is then read-only. */
    private readonly writers: Writers | null,
    private readonly model: LogModel,
    /** Indexes of the valid snapshot files, ascending. */
    private readonly snapshotFiles: number[],
    /** Indexes of the damaged snapshot files, deleted once a newer snapshot is durable. */
    private readonly refusedSnapshotFiles: number[],
  ) {}

  static async open(dir: string, options: LogStoreOptions = {}): Promise<{ store: LogStore; restored: RestoredState; recovery: RecoveryReport }> {
    const opened = await openDirectory(dir, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    const { restored } = opened;
    const model = new LogModel(restored.snapshot?.meta ?? null, restored.entries, restored.hardState);
    const store = new LogStore(dir, opened.writers, model, opened.snapshotFiles, opened.refusedSnapshotFiles);
    return { store, restored, recovery: opened.recovery };
  }

  /**
   * A Ready's persistence duties 1-4 in one call: the snapshot (if any; it
   * replaces the whole stored log), then the entries (replacing stored
   * entries from entries[0].index on), then the hard state. With `sync` (always when there is a snapshot), resolves only
   * once all of it is durable. Rejects at once with E_INVALID, writing
   * nothing, if the update breaks the log's rules.
   */
  async save(update: StoreUpdate, sync: boolean): Promise<void> {
    this.assertWritable();
    const problems = this.model.checkSave(update);
    if (problems.length > 0) throw new StoreError('E_INVALID', 'update refused', problems);
    this.model.applySave(update);
    const records: EncodedRecord[] = [];
    const snapshot = update.snapshot;
    if (snapshot !== null) records.push({ bytes: encodeSnapshotMark(snapshot.meta.index, snapshot.meta.term, true), index: snapshot.meta.index });
    for (const entry of update.entries) records.push({ bytes: encodeEntry(entry), index: entry.index });
    const covers = snapshot?.meta.index ?? null;
    return this.enqueue({ records, snapshot, covers, hardState: update.hardState, sync: sync || snapshot !== null });
  }

  /**
   * The caller made `snapshot` of its applied state (its index is in the
   * stored log, with the same term). Writes the file durably beside the save
   * queue, so saves do not wait for it; then records it in the log, and
   * removes the segments it covers and snapshots older than the previous one.
   */
  async compact(snapshot: Snapshot): Promise<void> {
    this.assertWritable();
    const problems = this.model.checkCompact(snapshot);
    if (problems.length > 0) throw new StoreError('E_INVALID', 'snapshot refused', problems);
    this.model.applyCompact(snapshot);
    const written = this.snapshotWrites.then(() => writeSnapshotFile(this.dir, snapshot));
    this.snapshotWrites = written.catch(() => undefined);
    try {
      await written;
    } catch (err) {
      throw this.fail(err);
    }
    // The mark goes into the log only once the file is durable. Saves queued
    // meanwhile cannot have replaced entries up to the snapshot: they are applied.
    const { index, term } = snapshot.meta;
    return this.enqueue({ records: [{ bytes: encodeSnapshotMark(index, term, false), index }], snapshot: null, covers: index, hardState: null, sync: true });
  }

  /** Finishes queued saves and compactions, then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotWrites;
    await this.flushing;
    if (this.writers === null) return;
    await this.writers.log.close(this.failure === null);
    await this.writers.hardState.close(this.failure === null);
  }

  private assertWritable(): void {
    if (this.closed) throw new StoreError('E_CLOSED', 'the store is closed');
    if (this.failure !== null) throw this.failure;
    if (this.writers === null) throw new StoreError('E_LOG_CORRUPT', `the log in ${this.dir} is corrupt; it is kept as found for repair`);
  }

  /** After a failed write or fsync nothing more is written: see E_STORE_FAILED. */
  private fail(cause: unknown): StoreError {
    this.failure ??= new StoreError('E_STORE_FAILED', `writing to ${this.dir} failed; reopen the store to recover`, [], { cause });
    for (const write of this.queue.splice(0)) write.reject(this.failure);
    return this.failure;
  }

  private enqueue(write: Omit<PendingWrite, 'resolve' | 'reject'>): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ ...write, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Let saves made in the same turn of the event loop join the first batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        await this.writeBatch(batch);
        for (const write of batch) write.resolve();
      } catch (err) {
        const failure = this.fail(err);
        for (const write of batch) write.reject(failure);
      }
    }
    this.flushing = null;
  }

  private async writeBatch(batch: PendingWrite[]): Promise<void> {
    const writers = this.writers!;
    const records: EncodedRecord[] = [];
    let snapshot: Snapshot | null = null;
    let covers: number | null = null;
    let hardState: HardState | null = null;
    let sync = false;
    for (const write of batch) {
      for (const record of write.records) records.push(record);
      snapshot = write.snapshot ?? snapshot;
      covers = write.covers === null ? covers : Math.max(write.covers, covers ?? 0);
      hardState = write.hardState ?? hardState;
      sync ||= write.sync;
    }
    // A snapshot mark in the log must never be durable before its snapshot file.
    if (snapshot !== null) await writeSnapshotFile(this.dir, snapshot);
    const hardStateDone = hardState !== null ? writers.hardState.write(hardState, sync) : sync ? writers.hardState.sync() : null;
    const results = await Promise.allSettled([writers.log.append(records, sync), hardStateDone]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    if (covers !== null) await this.dropCoveredBy(covers);
  }

  /** After a snapshot at `index` is durable: its log segments go, and snapshot files older than the previous one. */
  private async dropCoveredBy(index: number): Promise<void> {
    await this.writers!.log.dropCoveredBy(index);
    if (!this.snapshotFiles.includes(index)) this.snapshotFiles.push(index);
    this.snapshotFiles.sort((a, b) => a - b);
    const stale = this.snapshotFiles.splice(0, Math.max(0, this.snapshotFiles.length - 2));
    for (let i = this.refusedSnapshotFiles.length - 1; i >= 0; i--) {
      const refused = this.refusedSnapshotFiles[i]!;
      if (refused < index) stale.push(refused);
      if (refused <= index) this.refusedSnapshotFiles.splice(i, 1);
    }
    for (const old of stale) {
      await unlink(join(this.dir, snapshotFileName(old))).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }
}
