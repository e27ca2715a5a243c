// Log records and their frames. A frame is
//
//   u32 LE  payload length (bytes)
//   u32 LE  CRC-32C over the 4 length bytes, then the payload
//   payload: u8 type, then the type's fields (integers as u64 LE)
//
// Types: 1 entry (index, term, u8 kind, data as UTF-8 to the end),
// 2 snapshot mark (index, term): compacted, 4 the same for an installed
// snapshot, which discards the whole log before it, 3 segment header
// (u8 format version, seq).
// The checksum covers the length too, so a damaged length is caught rather
// than followed into the middle of another record.
import type { Entry, EntryKind } from '../consensus/types.js';
import { crc32c } from './crc32c.js';

export const FRAME_HEADER_BYTES = 8;
/** Largest payload accepted (bytes); a larger length field is damage, not a record. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
export const SEGMENT_FORMAT_VERSION = 1;

const TYPE_ENTRY = 1;
const TYPE_MARK = 2;
const TYPE_HEADER = 3;
const TYPE_INSTALL_MARK = 4;
const ENTRY_FIXED_BYTES = 1 + 8 + 8 + 1;
const MARK_BYTES = 1 + 8 + 8;
const HEADER_BYTES = 1 + 1 + 8;
const KIND_CODES: Record<EntryKind, number> = { noop: 0, command: 1, config: 2 };
const KINDS: readonly EntryKind[] = ['noop', 'command', 'config'];
const TWO_TO_32 = 2 ** 32;
/** Bytes of CRC work a search for valid records after damage may spend before giving up. */
const SCAN_BUDGET_BYTES = 256 * 1024 * 1024;

export type LogRecord =
  | { type: 'entry'; entry: Entry }
  /**
   * A snapshot covering up to `index` was made durable: the log's start
   * moved past it. `installed`: it came from the leader and replaces the
   * whole log; otherwise it was compacted from this log, which it matches.
   */
  | { type: 'snapshot-mark'; index: number; term: number; installed: boolean }
  | { type: 'segment-header'; version: number; seq: number };

export type FrameRead = { ok: true; record: LogRecord; next: number } | { ok: false; reason: string };

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_TO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_TO_32), offset + 4);
}

/** The u64 at `offset`, or null if it is beyond Number.MAX_SAFE_INTEGER. */
function readU64(buf: Buffer, offset: number): number | null {
  const high = buf.readUInt32LE(offset + 4);
  if (high >= 2 ** 21) return null;
  return high * TWO_TO_32 + buf.readUInt32LE(offset);
}

function framed(payloadBytes: number): Buffer {
  return Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
}

function seal(frame: Buffer): Buffer {
  frame.writeUInt32LE(frame.length - FRAME_HEADER_BYTES, 0);
  const crc = crc32c(frame.subarray(FRAME_HEADER_BYTES), crc32c(frame.subarray(0, 4)));
  frame.writeUInt32LE(crc, 4);
  return frame;
}

/** Payload bytes an entry needs (for the size check before encoding). */
export function entryPayloadBytes(entry: Entry): number {
  return ENTRY_FIXED_BYTES + Buffer.byteLength(entry.data, 'utf8');
}

export function encodeEntry(entry: Entry): Buffer {
  const frame = framed(entryPayloadBytes(entry));
  const p = FRAME_HEADER_BYTES;
  frame[p] = TYPE_ENTRY;
  writeU64(frame, p + 1, entry.index);
  writeU64(frame, p + 9, entry.term);
  frame[p + 17] = KIND_CODES[entry.kind];
  frame.write(entry.data, p + ENTRY_FIXED_BYTES, 'utf8');
  return seal(frame);
}

export function encodeSnapshotMark(index: number, term: number, installed: boolean): Buffer {
  const frame = framed(MARK_BYTES);
  const p = FRAME_HEADER_BYTES;
  frame[p] = installed ? TYPE_INSTALL_MARK : TYPE_MARK;
  writeU64(frame, p + 1, index);
  writeU64(frame, p + 9, term);
  return seal(frame);
}

export function encodeSegmentHeader(seq: number): Buffer {
  const frame = framed(HEADER_BYTES);
  const p = FRAME_HEADER_BYTES;
  frame[p] = TYPE_HEADER;
  frame[p + 1] = SEGMENT_FORMAT_VERSION;
  writeU64(frame, p + 2, seq);
  return seal(frame);
}

function decodePayload(payload: Buffer): LogRecord | string {
  const type = payload[0];
  if (type === TYPE_ENTRY && payload.length >= ENTRY_FIXED_BYTES) {
    const index = readU64(payload, 1);
    const term = readU64(payload, 9);
    const kind = KINDS[payload[17]!];
    if (index === null || term === null || kind === undefined) return 'malformed entry';
    return { type: 'entry', entry: { index, term, kind, data: payload.toString('utf8', ENTRY_FIXED_BYTES) } };
  }
  if ((type === TYPE_MARK || type === TYPE_INSTALL_MARK) && payload.length === MARK_BYTES) {
    const index = readU64(payload, 1);
    const term = readU64(payload, 9);
    if (index === null || term === null) return 'malformed snapshot mark';
    return { type: 'snapshot-mark', index, term, installed: type === TYPE_INSTALL_MARK };
  }
  if (type === TYPE_HEADER && payload.length === HEADER_BYTES) {
    const seq = readU64(payload, 2);
    if (seq === null) return 'malformed segment header';
    return { type: 'segment-header', version: payload[1]!, seq };
  }
  return `unknown record type ${String(type)} or wrong size ${payload.length}`;
}

/** Checks the frame at `offset` without decoding it; returns its end, or a reason it is not a frame. */
function checkFrame(buf: Buffer, offset: number): { end: number } | { reason: string } {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { reason: 'incomplete frame header' };
  const length = buf.readUInt32LE(offset);
  if (length === 0 || length > MAX_PAYLOAD_BYTES) return { reason: `implausible length ${length}` };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { reason: `record of ${length} bytes runs past the end of the file` };
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
  const crc = crc32c(payload, crc32c(buf.subarray(offset, offset + 4)));
  if (crc !== buf.readUInt32LE(offset + 4)) return { reason: 'checksum mismatch' };
  return { end };
}

export function readFrame(buf: Buffer, offset: number): FrameRead {
  const checked = checkFrame(buf, offset);
  if ('reason' in checked) return { ok: false, reason: checked.reason };
  const record = decodePayload(buf.subarray(offset + FRAME_HEADER_BYTES, checked.end));
  if (typeof record === 'string') return { ok: false, reason: record };
  return { ok: true, record, next: checked.end };
}

/**
 * Whether any valid frame starts after the damaged one at `damaged`. This
 * tells a torn tail (nothing valid after: the last write never completed)
 * from corruption (valid records after a bad one: acknowledged data was
 * damaged). The damaged frame's own length is tried first, which finds the
 * next record at once when only a payload byte is bad; otherwise every byte
 * offset is tried. 'unknown' when the search ran out of budget.
 */
export function validFrameAfter(buf: Buffer, damaged: number): 'found' | 'none' | 'unknown' {
  if (buf.length - damaged >= FRAME_HEADER_BYTES) {
    const claimed = damaged + FRAME_HEADER_BYTES + buf.readUInt32LE(damaged);
    if (claimed < buf.length && readFrame(buf, claimed).ok) return 'found';
  }
  let budget = SCAN_BUDGET_BYTES;
  for (let at = damaged + 1; at + FRAME_HEADER_BYTES < buf.length; at++) {
    const length = buf.readUInt32LE(at);
    if (length === 0 || length > MAX_PAYLOAD_BYTES || at + FRAME_HEADER_BYTES + length > buf.length) continue;
    budget -= length;
    if (budget < 0) return 'unknown';
    if (readFrame(buf, at).ok) return 'found';
  }
  return 'none';
}
