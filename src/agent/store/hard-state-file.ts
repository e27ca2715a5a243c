// The hard state (term, vote, commit hint) lives in one 1024-byte file of two
// 512-byte slots, overwritten in place. Each slot is
//
//   u32 LE  payload length    u32 LE  CRC-32C over the length bytes and payload
//   payload: JSON {seq, term, votedFor, commit}, zero padding to 512 bytes
//
// and an all-zero slot is empty. The valid slot with the highest seq wins.
//
// Why in place, two copies: a fixed-size overwrite changes no metadata, so
// its fdatasync is cheap and can run beside the log's. The rules that make
// one damaged slot harmless:
// - A change of term or vote is written to slot 0, made durable, then
//   written to slot 1 (durable before the save is acknowledged). A crash
//   tears at most one slot, and at every acknowledgement both slots hold the
//   current term and vote.
// - A change of the commit hint alone goes to slot 0 only, with no fsync of
//   its own: Raft recomputes commit, so losing it costs nothing, and slot 1
//   keeps the current term and vote meanwhile.
// So a torn or rotten slot loses at most a commit hint. A vote is never
// forgotten through one bad slot; two bad slots make the store report the
// log corrupt (the node must not vote until repaired).
import { open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '../consensus/types.js';
import { crc32c } from './crc32c.js';
import { HARD_STATE_FILE, TEMP_SUFFIX } from './file-names.js';
import { isNotFound, writeAll } from './fs-durable.js';

const SLOT_BYTES = 512;
const FILE_BYTES = 2 * SLOT_BYTES;
const SLOT_HEADER_BYTES = 8;
/** Room for the JSON payload; votedFor is limited so that it always fits. */
export const MAX_VOTED_FOR_BYTES = 256;

export interface HardStateRead {
  exists: boolean;
  /** Each slot's sequence number, -1 when empty or damaged. */
  slotSeqs: [number, number];
  /** The newest valid copy, null when none. */
  latest: HardState | null;
  refused: { offset: number; reason: string }[];
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function decodeSlot(slot: Buffer): { seq: number; hardState: HardState } | 'empty' | string {
  if (slot.length < SLOT_BYTES) return `slot is cut short at ${slot.length} bytes`;
  if (slot.subarray(0, SLOT_HEADER_BYTES).every((b) => b === 0)) return 'empty';
  const length = slot.readUInt32LE(0);
  if (length === 0 || length > SLOT_BYTES - SLOT_HEADER_BYTES) return `implausible length ${length}`;
  const payload = slot.subarray(SLOT_HEADER_BYTES, SLOT_HEADER_BYTES + length);
  if (crc32c(payload, crc32c(slot.subarray(0, 4))) !== slot.readUInt32LE(4)) return 'checksum mismatch';
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'payload is not JSON';
  }
  const p = parsed as Record<string, unknown>;
  const votedFor = p.votedFor;
  if (!isCount(p.seq) || !isCount(p.term) || !isCount(p.commit) || !(votedFor === null || typeof votedFor === 'string')) {
    return 'payload has the wrong shape';
  }
  return { seq: p.seq, hardState: { term: p.term, votedFor, commit: p.commit } };
}

function encodeSlot(seq: number, hardState: HardState): Buffer {
  const payload = Buffer.from(JSON.stringify({ seq, term: hardState.term, votedFor: hardState.votedFor, commit: hardState.commit }));
  const slot = Buffer.alloc(SLOT_BYTES);
  slot.writeUInt32LE(payload.length, 0);
  payload.copy(slot, SLOT_HEADER_BYTES);
  slot.writeUInt32LE(crc32c(payload, crc32c(slot.subarray(0, 4))), 4);
  return slot;
}

export async function readHardStateFile(dir: string): Promise<HardStateRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, HARD_STATE_FILE));
  } catch (err) {
    if (isNotFound(err)) return { exists: false, slotSeqs: [-1, -1], latest: null, refused: [] };
    throw err;
  }
  const read: HardStateRead = { exists: true, slotSeqs: [-1, -1], latest: null, refused: [] };
  let latestSeq = -1;
  for (const slot of [0, 1] as const) {
    const offset = slot * SLOT_BYTES;
    const decoded = decodeSlot(bytes.subarray(offset, offset + SLOT_BYTES));
    if (decoded === 'empty') continue;
    if (typeof decoded === 'string') {
      read.refused.push({ offset, reason: decoded });
      continue;
    }
    read.slotSeqs[slot] = decoded.seq;
    if (decoded.seq > latestSeq) {
      latestSeq = decoded.seq;
      read.latest = decoded.hardState;
    }
  }
  return read;
}

/** Creates the file with two empty slots via temp file and rename; the caller fsyncs the directory. */
export async function createHardStateFile(dir: string): Promise<void> {
  const temp = join(dir, HARD_STATE_FILE + TEMP_SUFFIX);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle, Buffer.alloc(FILE_BYTES), 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, HARD_STATE_FILE));
}

export class HardStateFile {
  /** A term or vote change was written without sync and is not yet durable. */
  private voteUnsynced = false;
  /** Any write (a commit hint at least) is not yet durable. */
  private unsynced = false;

  private constructor(
    private readonly handle: FileHandle,
    private seq: number,
    private current: HardState | null,
  ) {}

  static async open(dir: string, read: HardStateRead): Promise<HardStateFile> {
    const handle = await open(join(dir, HARD_STATE_FILE), 'r+');
    return new HardStateFile(handle, Math.max(read.slotSeqs[0], read.slotSeqs[1]), read.latest);
  }

  /** Stores `hardState`; with `sync`, resolves once any change of term or vote (this or an earlier one) is durable. */
  async write(hardState: HardState, sync: boolean): Promise<void> {
    const current = this.current;
    this.current = hardState;
    const voteChanged = current === null || current.term !== hardState.term || current.votedFor !== hardState.votedFor;
    await this.writeSlot(0, hardState, voteChanged);
    if (voteChanged) {
      // Slot 0 is durable before slot 1 is touched, so a crash tears at most one.
      if (sync) await this.sync();
      await this.writeSlot(1, hardState, true);
    }
    if (sync) await this.sync();
  }

  /** Makes a term or vote change written without sync durable. */
  async sync(): Promise<void> {
    if (this.voteUnsynced) await this.flush();
  }

  /** Writes `hardState` durably to both slots, as after a change of vote (repair after a damaged slot). */
  async rewrite(hardState: HardState): Promise<void> {
    this.current = null;
    await this.write(hardState, true);
  }

  /** Closes the file, first making every write durable unless `sync` is false (after a failed write). */
  async close(sync: boolean): Promise<void> {
    if (sync && this.unsynced) await this.flush();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    this.voteUnsynced = false;
    this.unsynced = false;
    await this.handle.datasync();
  }

  private async writeSlot(slot: 0 | 1, hardState: HardState, carriesVoteChange: boolean): Promise<void> {
    this.seq++;
    this.unsynced = true;
    if (carriesVoteChange) this.voteUnsynced = true;
    await writeAll(this.handle, encodeSlot(this.seq, hardState), slot * SLOT_BYTES);
  }
}
