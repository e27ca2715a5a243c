// Shared by the store tests: temp directories and small log fixtures.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, Snapshot } from '../../src/agent/consensus/types.js';
import { readFrame } from '../../src/agent/store/records.js';

export async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-store-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function entryData(index: number, term: number): string {
  return `e${index}t${term}`;
}

/** Entries from..to (inclusive) of one term, with data naming both. */
export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) out.push({ index, term, kind: 'command', data: entryData(index, term) });
  return out;
}

export function snapshotAt(index: number, term: number): Snapshot {
  return {
    meta: { index, term, membership: { members: [{ id: 'n1', incarnation: 'i1', kind: 'node', role: 'voter' }] } },
    data: JSON.stringify({ appliedThrough: index, note: 'ünïcode ✓' }),
  };
}

export async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('segment-')).sort();
}

/** Byte offset and length of each frame in a segment file, in order. */
export async function frames(path: string): Promise<{ offset: number; length: number; index: number | null }[]> {
  const bytes = await readFile(path);
  const out: { offset: number; length: number; index: number | null }[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const read = readFrame(bytes, offset);
    if (!read.ok) throw new Error(`unexpected bad frame at ${offset}: ${read.reason}`);
    const index = read.record.type === 'entry' ? read.record.entry.index : null;
    out.push({ offset, length: read.next - offset, index });
    offset = read.next;
  }
  return out;
}
