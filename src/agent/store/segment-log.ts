// The writing side of the log: appends framed records to the active segment,
// rolls over to a new segment past the size limit, and removes whole
// segments once a durable snapshot covers them.
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentFileName } from './file-names.js';
import { fsyncDirectory, writeAll } from './fs-durable.js';
import { encodeSegmentHeader } from './records.js';
import type { SegmentSpan } from './recovery.js';

/** A framed record and the log index it carries (entry or snapshot mark). */
export interface EncodedRecord {
  bytes: Buffer;
  index: number;
}

const HEADER_FRAME_BYTES = encodeSegmentHeader(0).length;

interface Segment {
  seq: number;
  maxIndex: number;
}

export class SegmentLog {
  private unsynced = false;
  /** A file was created since the last directory fsync. */
  private directoryDirty: boolean;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly segments: Segment[],
    private active: FileHandle,
    private activeBytes: number,
    created: boolean,
  ) {
    this.directoryDirty = created;
  }

  /**
   * Continues after the recovered segments (the last one already cut to its
   * valid length), or starts segment 1 in an empty directory.
   */
  static async open(dir: string, segmentBytes: number, spans: SegmentSpan[]): Promise<SegmentLog> {
    const last = spans[spans.length - 1];
    const segments = spans.map((s) => ({ seq: s.seq, maxIndex: s.maxIndex }));
    if (last === undefined) {
      const handle = await open(join(dir, segmentFileName(1)), 'a');
      return new SegmentLog(dir, segmentBytes, [{ seq: 1, maxIndex: 0 }], handle, 0, true);
    }
    const handle = await open(join(dir, segmentFileName(last.seq)), 'a');
    return new SegmentLog(dir, segmentBytes, segments, handle, last.validBytes, false);
  }

  /** Appends `records` in order; with `sync`, resolves once they (and any new file's name) are durable. */
  async append(records: EncodedRecord[], sync: boolean): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for (const record of records) {
      const used = this.activeBytes + pendingBytes;
      // A record larger than a whole segment still goes alone into one.
      if (used > HEADER_FRAME_BYTES && used + record.bytes.length > this.segmentBytes) {
        await this.write(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await this.rollOver();
      }
      if (this.activeBytes + pendingBytes === 0) {
        const header = encodeSegmentHeader(this.activeSegment().seq);
        pending.push(header);
        pendingBytes += header.length;
      }
      pending.push(record.bytes);
      pendingBytes += record.bytes.length;
      const segment = this.activeSegment();
      segment.maxIndex = Math.max(segment.maxIndex, record.index);
    }
    await this.write(pending, pendingBytes);
    if (sync) await this.sync();
  }

  /** Makes every earlier append durable, and the names of files created since the last sync. */
  async sync(): Promise<void> {
    const work: Promise<void>[] = [];
    if (this.unsynced) work.push(this.active.datasync());
    if (this.directoryDirty) work.push(fsyncDirectory(this.dir));
    this.unsynced = false;
    this.directoryDirty = false;
    await Promise.all(work);
  }

  /**
   * Removes the oldest segments while every record in them is at or below
   * `index` (a durable snapshot covers them); the active segment stays.
   * Oldest first with a directory fsync after each, so that a crash leaves
   * the remaining segments contiguous. Returns how many went.
   */
  async dropCoveredBy(index: number): Promise<number> {
    let dropped = 0;
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index) {
      const oldest = this.segments[0]!;
      await unlink(join(this.dir, segmentFileName(oldest.seq)));
      await fsyncDirectory(this.dir);
      this.segments.shift();
      dropped++;
    }
    return dropped;
  }

  /** Closes the active segment, first making it durable unless `sync` is false (after a failed write). */
  async close(sync: boolean): Promise<void> {
    if (sync) await this.sync();
    await this.active.close();
  }

  private activeSegment(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private async write(buffers: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    this.unsynced = true;
    await writeAll(this.active, buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers, bytes), null);
    this.activeBytes += bytes;
  }

  /**
   * Seals the active segment (made durable now, so that only the last
   * segment can ever have a torn tail) and starts the next one.
   */
  private async rollOver(): Promise<void> {
    if (this.unsynced) await this.active.datasync();
    this.unsynced = false;
    await this.active.close();
    const seq = this.activeSegment().seq + 1;
    this.active = await open(join(this.dir, segmentFileName(seq)), 'a');
    this.segments.push({ seq, maxIndex: 0 });
    this.activeBytes = 0;
    this.directoryDirty = true;
  }
}
