// Names of the files in a store directory. Numbers are zero-padded to 20
// digits so that a directory listing sorts in log order.

/** Two 512-byte slots holding the hard state; see hard-state-file.ts. */
export const HARD_STATE_FILE = 'hardstate';
/** Suffix of files being written before their atomic rename; leftovers are removed on open. */
export const TEMP_SUFFIX = '.tmp';

const SEGMENT = /^segment-(\d{20})\.log$/;
const SNAPSHOT = /^snapshot-(\d{20})\.snap$/;

export function segmentFileName(seq: number): string {
  return `segment-${String(seq).padStart(20, '0')}.log`;
}

/** The segment's sequence number, or null if `name` is not a segment file. */
export function parseSegmentFileName(name: string): number | null {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : null;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(20, '0')}.snap`;
}

/** The index the snapshot covers, or null if `name` is not a snapshot file. */
export function parseSnapshotFileName(name: string): number | null {
  const match = SNAPSHOT.exec(name);
  return match ? Number(match[1]) : null;
}
