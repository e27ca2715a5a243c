// Reading the log back after a restart, as pure functions over the segment
// files' bytes: replay the records in order, tell a torn tail from
// corruption, then reconcile the log with the snapshot that was loaded.
import type { Entry, Snapshot } from '../consensus/types.js';
import { segmentFileName } from './file-names.js';
import { readFrame, SEGMENT_FORMAT_VERSION, validFrameAfter } from './records.js';
import type { LogRecord } from './records.js';

export interface SegmentFile {
  seq: number;
  bytes: Buffer;
}

export interface CorruptRecord {
  segment: string;
  offset: number;
  reason: string;
}

/** A damaged record as people read it: where it is and what is wrong. */
export function describeCorruptRecord(r: CorruptRecord): string {
  return `${r.segment} at byte ${r.offset}: ${r.reason}`;
}

export interface TornTail {
  segment: string;
  /** Where the last valid record ends: the file is cut here. */
  offset: number;
  bytesCut: number;
}

export interface SegmentSpan {
  seq: number;
  /** Highest entry or snapshot-mark index in the segment (0 if none): it may go once a snapshot covers this. */
  maxIndex: number;
  /** Length of the valid records, in bytes. */
  validBytes: number;
}

export interface Replay {
  /** Contiguous; may still hold entries at or below the last snapshot mark. */
  entries: Entry[];
  /** Highest snapshot mark seen (0 if none). */
  markIndex: number;
  /** Every segment read, in order, up to the one where reading stopped. */
  spans: SegmentSpan[];
  corrupt: CorruptRecord | null;
  tornTail: TornTail | null;
}

class Replayer {
  entries: Entry[] = [];
  /** Index that entries[0] has, or will have once an entry arrives; null before any record. */
  first: number | null = null;
  markIndex = 0;
  markTerm = 0;

  /** Applies one record; a reason when it contradicts what came before (corruption or a bug). */
  apply(record: LogRecord, atStart: boolean, seq: number): string | null {
    if (record.type === 'segment-header') {
      if (!atStart) return 'segment header in the middle of a segment';
      if (record.version !== SEGMENT_FORMAT_VERSION) return `unknown segment format version ${record.version}`;
      if (record.seq !== seq) return `header names segment ${record.seq}`;
      return null;
    }
    if (atStart) return 'segment does not start with a header';
    return record.type === 'entry' ? this.applyEntry(record.entry) : this.applyMark(record.index, record.term, record.installed);
  }

  private applyEntry(entry: Entry): string | null {
    // Entries at or below a snapshot are covered by it.
    if (entry.index <= this.markIndex) return null;
    if (this.first === null) {
      this.first = entry.index;
      this.entries = [entry];
      return null;
    }
    const next = this.first + this.entries.length;
    if (entry.index > next) return `entry ${entry.index} leaves a gap after ${next - 1}`;
    if (entry.index < this.first) return `entry ${entry.index} is below the log's start ${this.first}`;
    // An entry at an index already held replaces it and everything after (a conflicting suffix).
    this.entries.length = entry.index - this.first;
    const previousTerm = this.entries[this.entries.length - 1]?.term ?? (this.first === this.markIndex + 1 ? this.markTerm : 0);
    if (entry.term < previousTerm) return `entry ${entry.index} has term ${entry.term}, below the previous ${previousTerm}`;
    this.entries.push(entry);
    return null;
  }

  private applyMark(index: number, term: number, installed: boolean): string | null {
    const first = this.first;
    const last = first === null ? 0 : first + this.entries.length - 1;
    const held = first !== null && first <= index && index <= last;
    // An installed snapshot replaces the whole log. A compacted one keeps the
    // entries that lead up to its own (index, term), so that an older
    // snapshot can still be used if this one turns out to be damaged;
    // entries that do not are from another history and go.
    const keep = !installed && (held ? this.entries[index - first]?.term === term : first !== null && last >= index);
    if (!keep) {
      this.entries = [];
      this.first = index + 1;
    }
    // A mark below an earlier one is legitimate: after a damaged newest
    // snapshot was refused, the node compacts again from the older one.
    if (index >= this.markIndex) {
      this.markIndex = index;
      this.markTerm = term;
    }
    return null;
  }
}

function scanSegment(replayer: Replayer, file: SegmentFile, isLast: boolean): { span: SegmentSpan; corrupt: CorruptRecord | null; tornTail: TornTail | null } {
  const segment = segmentFileName(file.seq);
  let offset = 0;
  let maxIndex = 0;
  while (offset < file.bytes.length) {
    const read = readFrame(file.bytes, offset);
    const span = { seq: file.seq, maxIndex, validBytes: offset };
    if (!read.ok) {
      if (!isLast) return { span, corrupt: { segment, offset, reason: `${read.reason} in a sealed segment` }, tornTail: null };
      const after = validFrameAfter(file.bytes, offset);
      if (after === 'none') return { span, corrupt: null, tornTail: { segment, offset, bytesCut: file.bytes.length - offset } };
      const why = after === 'found' ? 'valid records follow it' : 'could not rule out valid records after it';
      return { span, corrupt: { segment, offset, reason: `${read.reason}; ${why}` }, tornTail: null };
    }
    const problem = replayer.apply(read.record, offset === 0, file.seq);
    if (problem !== null) return { span, corrupt: { segment, offset, reason: problem }, tornTail: null };
    if (read.record.type === 'entry') maxIndex = Math.max(maxIndex, read.record.entry.index);
    if (read.record.type === 'snapshot-mark') maxIndex = Math.max(maxIndex, read.record.index);
    offset = read.next;
  }
  return { span: { seq: file.seq, maxIndex, validBytes: offset }, corrupt: null, tornTail: null };
}

/**
 * Replays segments in sequence order. A bad record at the very end of the
 * last segment, with nothing valid after it, is a torn tail (a write that
 * never completed, so never acknowledged). Any other bad or contradictory
 * record, or a missing segment, is corruption: reading stops before it.
 */
export function replaySegments(files: SegmentFile[]): Replay {
  const replayer = new Replayer();
  const spans: SegmentSpan[] = [];
  let corrupt: CorruptRecord | null = null;
  let tornTail: TornTail | null = null;
  for (const [i, file] of files.entries()) {
    const previous = files[i - 1];
    if (previous !== undefined && file.seq !== previous.seq + 1) {
      corrupt = { segment: segmentFileName(previous.seq + 1), offset: 0, reason: 'segment file missing' };
      break;
    }
    const scanned = scanSegment(replayer, file, i === files.length - 1);
    spans.push(scanned.span);
    corrupt = scanned.corrupt;
    tornTail = scanned.tornTail;
    if (corrupt !== null) break;
  }
  return { entries: replayer.entries, markIndex: replayer.markIndex, spans, corrupt, tornTail };
}

/**
 * The entries to restore after `snapshot` (or from index 1), and every
 * reason the result cannot be trusted: the log does not reach back to the
 * snapshot, or a snapshot that was recorded (or found damaged) covered more
 * than is left.
 */
export function reconcile(replay: Replay, snapshot: Snapshot | null, refusedSnapshotIndexes: number[]): { entries: Entry[]; problems: string[] } {
  const problems: string[] = [];
  const base = snapshot?.meta.index ?? 0;
  let entries = replay.entries;
  const first = entries[0]?.index;
  const last = entries[entries.length - 1]?.index;
  if (first !== undefined && last !== undefined && snapshot !== null && first <= base) {
    // Entries up to the snapshot go. If the log disagrees with the snapshot's
    // own term, the crash came after the snapshot file but before its mark in
    // the log was durable, and the entries are from a replaced history.
    const atBase = entries[base - first];
    entries = last >= base && atBase?.term === snapshot.meta.term ? entries.slice(base - first + 1) : [];
  } else if (first !== undefined && first > base + 1) {
    problems.push(`the log starts at index ${first}, but ${snapshot ? `the snapshot ends at ${base}` : 'there is no snapshot'}`);
    entries = [];
  }
  const reached = entries[entries.length - 1]?.index ?? base;
  if (replay.markIndex > reached) {
    problems.push(`a snapshot up to index ${replay.markIndex} was recorded, but only index ${reached} can be restored`);
  }
  for (const index of refusedSnapshotIndexes) {
    if (index > reached) problems.push(`damaged snapshot ${index} covered entries that are not in the log`);
  }
  return { entries, problems };
}
