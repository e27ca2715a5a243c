import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LogStore } from '../../src/agent/store/log-store.js';
import { StoreError } from '../../src/agent/store/store-error.js';
import { entries, segmentNames, snapshotAt, withTempDir } from './helpers.js';

const clean = { tornTail: null, corruptRecords: [], snapshotsRefused: [], hardStateRefused: [], termRaised: null };

test('a fresh directory opens empty', () =>
  withTempDir(async (dir) => {
    const { store, restored, recovery } = await LogStore.open(`${dir}/nested/node`);
    assert.deepEqual(restored, { hardState: { term: 0, votedFor: null, commit: 0 }, snapshot: null, entries: [], logCorrupt: false });
    assert.deepEqual(recovery, clean);
    await store.close();
  }));

test('entries, hard state and a snapshot come back as saved', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir);
    await first.store.save({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, votedFor: 'n2', commit: 4 } }, true);
    await first.store.save({ snapshot: null, entries: entries(11, 12, 2), hardState: { term: 2, votedFor: null, commit: 9 } }, true);
    await first.store.compact(snapshotAt(9, 1));
    await first.store.close();

    const { store, restored, recovery } = await LogStore.open(dir);
    assert.deepEqual(recovery, clean);
    assert.deepEqual(restored, {
      hardState: { term: 2, votedFor: null, commit: 9 },
      snapshot: snapshotAt(9, 1),
      entries: [...entries(10, 10, 1), ...entries(11, 12, 2)],
      logCorrupt: false,
    });
    await store.close();
  }));

test('a conflicting suffix is replaced, also across a reopen', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir);
    await first.store.save({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, votedFor: null, commit: 0 } }, true);
    await first.store.save({ snapshot: null, entries: entries(6, 7, 2), hardState: { term: 2, votedFor: null, commit: 0 } }, true);
    await first.store.close();
    const second = await LogStore.open(dir);
    assert.deepEqual(second.restored.entries, [...entries(1, 5, 1), ...entries(6, 7, 2)]);
    await second.store.save({ snapshot: null, entries: entries(3, 4, 3), hardState: { term: 3, votedFor: null, commit: 0 } }, true);
    await second.store.close();
    const third = await LogStore.open(dir);
    assert.deepEqual(third.restored.entries, [...entries(1, 2, 1), ...entries(3, 4, 3)]);
    await third.store.close();
  }));

test('an installed snapshot replaces the whole stored log, even entries that match it', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir);
    await first.store.save({ snapshot: null, entries: entries(1, 10, 1), hardState: { term: 1, votedFor: null, commit: 0 } }, true);
    // Entry 5 has term 1 like the snapshot, but the contract (Ready duty 1) drops 6..10 too.
    await first.store.save({ snapshot: snapshotAt(5, 1), entries: [], hardState: null }, false);
    await assert.rejects(first.store.save({ snapshot: null, entries: entries(8, 8, 1), hardState: null }, true), /gap after the last index 5/);
    await first.store.close();
    const second = await LogStore.open(dir);
    assert.deepEqual(second.restored.snapshot, snapshotAt(5, 1));
    assert.deepEqual(second.restored.entries, []);
    await second.store.save({ snapshot: snapshotAt(8, 3), entries: entries(9, 9, 3), hardState: { term: 3, votedFor: null, commit: 8 } }, true);
    await second.store.close();
    const third = await LogStore.open(dir);
    assert.deepEqual(third.restored.snapshot, snapshotAt(8, 3));
    assert.deepEqual(third.restored.entries, entries(9, 9, 3));
    assert.deepEqual(third.restored.hardState, { term: 3, votedFor: null, commit: 8 });
    await third.store.close();
  }));

test('segments roll over at the size limit and read back in order', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir, { segmentBytes: 300 });
    for (let i = 1; i <= 60; i += 3) await first.store.save({ snapshot: null, entries: entries(i, i + 2, 1), hardState: null }, true);
    // A record larger than a whole segment goes alone into one.
    await first.store.save({ snapshot: null, entries: [{ index: 61, term: 1, kind: 'config', data: 'x'.repeat(1000) }], hardState: null }, true);
    await first.store.close();
    assert.ok((await segmentNames(dir)).length >= 5);
    const { store, restored } = await LogStore.open(dir, { segmentBytes: 300 });
    assert.deepEqual(restored.entries, [...entries(1, 60, 1), { index: 61, term: 1, kind: 'config', data: 'x'.repeat(1000) }]);
    await store.close();
  }));

test('compaction drops covered segments and snapshots older than the previous one', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir, { segmentBytes: 256 });
    await first.store.save({ snapshot: null, entries: entries(1, 100, 1), hardState: { term: 1, votedFor: 'n1', commit: 100 } }, true);
    const before = await segmentNames(dir);
    await first.store.compact(snapshotAt(40, 1));
    await first.store.compact(snapshotAt(60, 1));
    await first.store.compact(snapshotAt(80, 1));
    const after = await segmentNames(dir);
    assert.ok(after.length < before.length, `${after.length} segments left of ${before.length}`);
    assert.equal(after[0], before[before.length - after.length], 'only the oldest segments go');
    const snapshots = (await readdir(dir)).filter((n) => n.startsWith('snapshot-')).sort();
    assert.deepEqual(snapshots, ['snapshot-00000000000000000060.snap', 'snapshot-00000000000000000080.snap']);
    await first.store.close();

    const { store, restored, recovery } = await LogStore.open(dir, { segmentBytes: 256 });
    assert.deepEqual(recovery, clean);
    assert.equal(restored.snapshot?.meta.index, 80);
    assert.deepEqual(restored.entries, entries(81, 100, 1));
    await store.close();
  }));

test('saves queued together are written in order and all acknowledged', () =>
  withTempDir(async (dir) => {
    const first = await LogStore.open(dir);
    const acked: number[] = [];
    const saves = [];
    for (let i = 1; i <= 200; i++) {
      const hardState = i % 50 === 0 ? { term: i / 50, votedFor: 'n1', commit: i - 1 } : null;
      saves.push(first.store.save({ snapshot: null, entries: entries(i, i, Math.max(1, Math.floor(i / 50))), hardState }, i % 7 !== 0).then(() => acked.push(i)));
    }
    await Promise.all(saves);
    assert.deepEqual(acked, Array.from({ length: 200 }, (_, k) => k + 1));
    await first.store.close();
    const { store, restored } = await LogStore.open(dir);
    assert.equal(restored.entries.length, 200);
    assert.deepEqual(restored.hardState, { term: 4, votedFor: 'n1', commit: 199 });
    await store.close();
  }));

test('an update that breaks the log rules is refused with every problem, and nothing is written', () =>
  withTempDir(async (dir) => {
    const { store } = await LogStore.open(dir);
    await store.save({ snapshot: null, entries: entries(1, 3, 2), hardState: { term: 2, votedFor: 'n1', commit: 0 } }, true);
    const refused = (update: Parameters<LogStore['save']>[0], codes: RegExp[]) =>
      assert.rejects(store.save(update, true), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'E_INVALID');
        for (const code of codes) assert.ok(err.problems.some((p) => code.test(p)), `${String(code)} in ${err.problems.join(' | ')}`);
        return true;
      });
    await refused({ snapshot: null, entries: entries(6, 6, 2), hardState: { term: 2, votedFor: 'n3', commit: 0 } }, [/gap/, /already cast/]);
    await refused({ snapshot: null, entries: entries(4, 4, 1), hardState: { term: 1, votedFor: null, commit: 0 } }, [/below the term 2/, /term 1 is below/]);
    await refused({ snapshot: null, entries: [{ index: 4, term: 2, kind: 'command', data: 'lone \ud800' }], hardState: null }, [/well-formed/]);
    await assert.rejects(store.compact(snapshotAt(9, 2)), /beyond the last stored index 3/);
    await store.close();
    await assert.rejects(store.save({ snapshot: null, entries: [], hardState: null }, true), { code: 'E_CLOSED' });
    const again = await LogStore.open(dir);
    assert.deepEqual(again.restored.entries, entries(1, 3, 2));
    assert.deepEqual(again.restored.hardState, { term: 2, votedFor: 'n1', commit: 0 });
    await again.store.close();
  }));

test('after a failed write the store refuses everything, and a reopen recovers what was durable', () =>
  withTempDir(async (dir) => {
    const { store } = await LogStore.open(dir);
    await store.save({ snapshot: null, entries: entries(1, 5, 1), hardState: { term: 1, votedFor: null, commit: 5 } }, true);
    // A directory in the way of the snapshot's file name makes its rename fail.
    const blocker = join(dir, 'snapshot-00000000000000000009.snap');
    await mkdir(join(blocker, 'in-the-way'), { recursive: true });
    const failed = store.save({ snapshot: snapshotAt(9, 2), entries: entries(10, 10, 2), hardState: { term: 2, votedFor: null, commit: 9 } }, true);
    const queuedBehind = store.save({ snapshot: null, entries: entries(11, 11, 2), hardState: null }, true);
    await assert.rejects(failed, { code: 'E_STORE_FAILED' });
    await assert.rejects(queuedBehind, { code: 'E_STORE_FAILED' });
    await assert.rejects(store.save({ snapshot: null, entries: [], hardState: null }, true), { code: 'E_STORE_FAILED' });
    await store.close();
    await rm(blocker, { recursive: true });

    const { store: reopened, restored } = await LogStore.open(dir);
    assert.deepEqual(restored.entries, entries(1, 5, 1));
    assert.equal(restored.snapshot, null);
    await reopened.close();
  }));
