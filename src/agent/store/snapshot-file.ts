// One snapshot per file, written whole to a temp file, fsynced, renamed into
// place and the directory fsynced: a snapshot file is either absent or
// complete. Layout:
//
//   8 bytes  magic "FCMSNAP1"
//   u32 LE   meta length (bytes)     u32 LE  data length (bytes)
//   u32 LE   CRC-32C over the two lengths, the meta and the data
//   meta     JSON SnapshotMeta       data    the state machine's string, UTF-8
//
// A file that fails any check is refused whole, never half-applied.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Snapshot, SnapshotMeta } from '../consensus/types.js';
import { crc32c } from './crc32c.js';
import { snapshotFileName, TEMP_SUFFIX } from './file-names.js';
import { fsyncDirectory, writeAll } from './fs-durable.js';

const MAGIC = Buffer.from('FCMSNAP1', 'latin1');
const HEADER_BYTES = MAGIC.length + 12;
/** CRC work done between yields to the event loop (bytes), so a large snapshot never blocks it for long. */
const CRC_CHUNK_BYTES = 1024 * 1024;
let tempFiles = 0;

async function checksum(parts: Uint8Array[]): Promise<number> {
  let crc = 0;
  for (const part of parts) {
    for (let at = 0; at < part.length; at += CRC_CHUNK_BYTES) {
      crc = crc32c(part.subarray(at, at + CRC_CHUNK_BYTES), crc);
      if (part.length - at > CRC_CHUNK_BYTES) await yieldToEventLoop();
    }
  }
  return crc;
}

/** Writes `snapshot` durably under its index's name, replacing any file of that name. */
export async function writeSnapshotFile(dir: string, snapshot: Snapshot): Promise<void> {
  const meta = Buffer.from(JSON.stringify(snapshot.meta), 'utf8');
  const data = Buffer.from(snapshot.data, 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(meta.length, MAGIC.length);
  header.writeUInt32LE(data.length, MAGIC.length + 4);
  const crc = await checksum([header.subarray(MAGIC.length, MAGIC.length + 8), meta, data]);
  header.writeUInt32LE(crc, MAGIC.length + 8);

  const name = snapshotFileName(snapshot.meta.index);
  // A name of its own, so two writes of the same index never share a temp file.
  const temp = join(dir, `${name}.${++tempFiles}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle, header, 0);
    await writeAll(handle, meta, header.length);
    await writeAll(handle, data, header.length + meta.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
  await fsyncDirectory(dir);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function metaProblem(meta: unknown, expectedIndex: number): string | null {
  const m = meta as Partial<SnapshotMeta> | null;
  if (typeof m !== 'object' || m === null || !isCount(m.index) || !isCount(m.term)) return 'meta has the wrong shape';
  if (typeof m.membership !== 'object' || m.membership === null || !Array.isArray(m.membership.members)) {
    return 'meta has no membership';
  }
  if (m.index !== expectedIndex) return `meta says index ${m.index}, file name says ${expectedIndex}`;
  return null;
}

/** Reads and verifies the snapshot file for `index`; a reason when it is refused. */
export async function readSnapshotFile(dir: string, index: number): Promise<{ snapshot: Snapshot } | { reason: string }> {
  const bytes = await readFile(join(dir, snapshotFileName(index)));
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { reason: 'not a snapshot file (bad magic)' };
  const metaLength = bytes.readUInt32LE(MAGIC.length);
  const dataLength = bytes.readUInt32LE(MAGIC.length + 4);
  if (HEADER_BYTES + metaLength + dataLength !== bytes.length) {
    return { reason: `size ${bytes.length} bytes does not match its header (${HEADER_BYTES + metaLength + dataLength})` };
  }
  const metaBytes = bytes.subarray(HEADER_BYTES, HEADER_BYTES + metaLength);
  const dataBytes = bytes.subarray(HEADER_BYTES + metaLength);
  const crc = await checksum([bytes.subarray(MAGIC.length, MAGIC.length + 8), metaBytes, dataBytes]);
  if (crc !== bytes.readUInt32LE(MAGIC.length + 8)) return { reason: 'checksum mismatch' };
  let meta: unknown;
  try {
    meta = JSON.parse(metaBytes.toString('utf8'));
  } catch {
    return { reason: 'meta is not JSON' };
  }
  const problem = metaProblem(meta, index);
  if (problem !== null) return { reason: problem };
  return { snapshot: { meta: meta as SnapshotMeta, data: dataBytes.toString('utf8') } };
}
