// Opening a store directory: read every file, recover (recovery.ts), cut a
// torn tail, repair a damaged hard-state slot, and open the writers, unless
// the log is corrupt, in which case nothing is changed and nothing opened
// for writing.
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Entry, HardState, RestoredState, Snapshot } from '../consensus/types.js';
import { HARD_STATE_FILE, parseSegmentFileName, parseSnapshotFileName, segmentFileName, snapshotFileName, TEMP_SUFFIX } from './file-names.js';
import { fsyncDirectory } from './fs-durable.js';
import { createHardStateFile, HardStateFile, readHardStateFile } from './hard-state-file.js';
import type { HardStateRead } from './hard-state-file.js';
import { reconcile, replaySegments } from './recovery.js';
import type { CorruptRecord, SegmentSpan, TornTail } from './recovery.js';
import { SegmentLog } from './segment-log.js';
import { readSnapshotFile } from './snapshot-file.js';

export interface RecoveryReport {
  tornTail: TornTail | null;
  corruptRecords: CorruptRecord[];
  snapshotsRefused: { file: string; reason: string }[];
  /** Damaged hard-state slots (offset in the file, bytes). One is repaired from the other copy. */
  hardStateRefused: { offset: number; reason: string }[];
  /**
   * The log or snapshot holds a term above the stored hard state's: the
   * hard state of that save never became durable (nor was acknowledged), so
   * the term is raised with no vote cast.
   */
  termRaised: { from: number; to: number } | null;
}

export interface Writers {
  log: SegmentLog;
  hardState: HardStateFile;
}

export interface OpenedDirectory {
  restored: RestoredState;
  recovery: RecoveryReport;
  /** Null when the log is corrupt: the store is then read-only. */
  writers: Writers | null;
  /** Indexes of the snapshot files that may be kept (the one loaded and older ones), ascending. */
  snapshotFiles: number[];
  /** Indexes of the snapshot files refused as damaged. */
  refusedSnapshotFiles: number[];
}

const NO_HARD_STATE: HardState = { term: 0, votedFor: null, commit: 0 };

/** Creates `dir` if needed, fsyncing the parent of each directory created so that its name is durable. */
async function makeDirectory(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let created = dir; created !== dirname(firstCreated); created = dirname(created)) {
    await fsyncDirectory(dirname(created));
  }
}

/** The newest snapshot that passes its checks, and the newer ones refused. */
async function loadSnapshot(dir: string, indexesNewestFirst: number[]): Promise<{ snapshot: Snapshot | null; refused: { index: number; reason: string }[] }> {
  const refused: { index: number; reason: string }[] = [];
  for (const index of indexesNewestFirst) {
    const read = await readSnapshotFile(dir, index);
    if ('snapshot' in read) return { snapshot: read.snapshot, refused };
    refused.push({ index, reason: read.reason });
  }
  return { snapshot: null, refused };
}

/** The stored term can lag the log's only if the save that raised it never became durable. */
function normalizeHardState(stored: HardState, snapshot: Snapshot | null, entries: Entry[]): { hardState: HardState; termRaised: RecoveryReport['termRaised'] } {
  const snapshotIndex = snapshot?.meta.index ?? 0;
  const lastIndex = entries[entries.length - 1]?.index ?? snapshotIndex;
  const logTerm = Math.max(snapshot?.meta.term ?? 0, entries[entries.length - 1]?.term ?? 0);
  // The commit hint is at least what the snapshot covers, and at most the log (a save that did not complete).
  const commit = Math.min(Math.max(stored.commit, snapshotIndex), lastIndex);
  if (logTerm > stored.term) {
    return { hardState: { term: logTerm, votedFor: null, commit }, termRaised: { from: stored.term, to: logTerm } };
  }
  return { hardState: { ...stored, commit }, termRaised: null };
}

async function cutTornTail(dir: string, tail: TornTail): Promise<void> {
  const handle = await open(join(dir, tail.segment), 'r+');
  try {
    await handle.truncate(tail.offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function openWriters(dir: string, segmentBytes: number, spans: SegmentSpan[], read: HardStateRead): Promise<Writers> {
  if (!read.exists) await createHardStateFile(dir);
  const log = await SegmentLog.open(dir, segmentBytes, spans);
  const hardState = await HardStateFile.open(dir, read);
  // The names of files created here (hard state, first segment) become durable now.
  await log.sync();
  if (!read.exists) await fsyncDirectory(dir);
  return { log, hardState };
}

export async function openDirectory(dir: string, segmentBytes: number): Promise<OpenedDirectory> {
  await makeDirectory(dir);
  const names = await readdir(dir);
  await Promise.all(names.filter((n) => n.endsWith(TEMP_SUFFIX)).map((n) => unlink(join(dir, n))));
  const segmentSeqs = names.map(parseSegmentFileName).filter((s) => s !== null).sort((a, b) => a - b);
  const snapshotIndexes = names.map(parseSnapshotFileName).filter((i) => i !== null).sort((a, b) => b - a);

  const { snapshot, refused } = await loadSnapshot(dir, snapshotIndexes);
  const files = await Promise.all(segmentSeqs.map(async (seq) => ({ seq, bytes: await readFile(join(dir, segmentFileName(seq))) })));
  const replay = replaySegments(files);
  const { entries, problems } = reconcile(replay, snapshot, refused.map((r) => r.index));
  const corruptRecords = replay.corrupt ? [replay.corrupt] : [];
  const firstSegment = segmentSeqs[0] === undefined ? '' : segmentFileName(segmentSeqs[0]);
  for (const reason of problems) corruptRecords.push({ segment: firstSegment, offset: 0, reason });

  const hardStateRead = await readHardStateFile(dir);
  const hardStateRefused = [...hardStateRead.refused];
  // Both copies damaged: the vote is unknown. (One damaged and one empty
  // slot means the very first write was torn: nothing was acknowledged.)
  let hardStateLost = hardStateRead.latest === null && hardStateRead.refused.length === 2;
  if (!hardStateRead.exists && (segmentSeqs.length > 0 || snapshotIndexes.length > 0)) {
    hardStateRefused.push({ offset: 0, reason: `${HARD_STATE_FILE} is missing while a log or snapshot exists` });
    hardStateLost = true;
  }
  const { hardState, termRaised } = normalizeHardState(hardStateRead.latest ?? NO_HARD_STATE, snapshot, entries);

  // A torn tail was never acknowledged: cutting it loses nothing, even when
  // corruption elsewhere keeps the rest of the files as found.
  if (replay.tornTail !== null) await cutTornTail(dir, replay.tornTail);
  const logCorrupt = corruptRecords.length > 0 || hardStateLost;
  const writers = logCorrupt ? null : await openWriters(dir, segmentBytes, replay.spans, hardStateRead);
  // Restore the rule that both slots hold the current term and vote.
  if (writers !== null && (termRaised !== null || hardStateRead.refused.length > 0)) await writers.hardState.rewrite(hardState);

  return {
    restored: { hardState, snapshot, entries, logCorrupt },
    recovery: {
      tornTail: replay.tornTail,
      corruptRecords,
      snapshotsRefused: refused.map((r) => ({ file: snapshotFileName(r.index), reason: r.reason })),
      hardStateRefused,
      termRaised,
    },
    writers,
    snapshotFiles: snapshot === null ? [] : snapshotIndexes.filter((i) => i <= snapshot.meta.index).reverse(),
    refusedSnapshotFiles: refused.map((r) => r.index),
  };
}
