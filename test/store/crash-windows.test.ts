// States a crash can leave between two durable steps of one save, built
// directly: each must open as a state the node could have been in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogStore } from '../../src/agent/store/log-store.js';
import { writeSnapshotFile } from '../../src/agent/store/snapshot-file.js';
import { entries, snapshotAt, withTempDir } from './helpers.js';

async function logOf(dir: string, last: number, term: number): Promise<void> {
  const { store } = await LogStore.open(dir);
  await store.save({ snapshot: null, entries: entries(1, last, term), hardState: { term, votedFor: 'n1', commit: 0 } }, true);
  await store.close();
}

test('snapshot file durable, its mark in the log not: a log that disagrees with the snapshot is dropped', () =>
  withTempDir(async (dir) => {
    await logOf(dir, 10, 1);
    await writeSnapshotFile(dir, snapshotAt(8, 2));
    const { store, restored, recovery } = await LogStore.open(dir);
    assert.equal(restored.logCorrupt, false);
    assert.deepEqual(restored.snapshot, snapshotAt(8, 2));
    assert.deepEqual(restored.entries, []);
    // The term-2 hard state of that save was not durable either: raised, with no vote.
    assert.deepEqual(recovery.termRaised, { from: 1, to: 2 });
    assert.deepEqual(restored.hardState, { term: 2, votedFor: null, commit: 8 });
    await store.close();
  }));

// The agreeing entries are what the node held before the save, so keeping
// them is as safe as compacting: they match the snapshot at its index.
test('snapshot file durable, its mark not, the log agrees: entries after the snapshot stay', () =>
  withTempDir(async (dir) => {
    await logOf(dir, 10, 1);
    await writeSnapshotFile(dir, snapshotAt(8, 1));
    const { store, restored, recovery } = await LogStore.open(dir);
    assert.equal(restored.logCorrupt, false);
    assert.deepEqual(restored.entries, entries(9, 10, 1));
    assert.equal(recovery.termRaised, null);
    await store.close();
  }));

test('entries durable but not the hard state saved with them: the term is raised to the log term, with no vote', () =>
  withTempDir(async (dir) => {
    await logOf(dir, 3, 1);
    const { store } = await LogStore.open(dir);
    // The same as a save whose hard-state write was lost in the crash.
    await store.save({ snapshot: null, entries: entries(4, 5, 3), hardState: null }, true);
    await store.close();
    const reopened = await LogStore.open(dir);
    assert.deepEqual(reopened.recovery.termRaised, { from: 1, to: 3 });
    assert.deepEqual(reopened.restored.hardState, { term: 3, votedFor: null, commit: 0 });
    await reopened.store.close();
    const again = await LogStore.open(dir);
    assert.equal(again.recovery.termRaised, null, 'the raised term was written back');
    await again.store.close();
  }));

test('a snapshot temp file left by a crash is removed, not read', () =>
  withTempDir(async (dir) => {
    await logOf(dir, 3, 1);
    await writeFile(join(dir, 'snapshot-00000000000000000003.snap.tmp'), 'half a snapshot');
    const { store, restored, recovery } = await LogStore.open(dir);
    assert.equal(restored.snapshot, null);
    assert.deepEqual(recovery.snapshotsRefused, []);
    assert.ok(!(await readdir(dir)).some((n) => n.endsWith('.tmp')));
    await store.close();
  }));
