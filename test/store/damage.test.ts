// Damage written straight into the files: a flipped byte in the middle of
// the log, in its last record, in a hard-state slot or a snapshot; a tail
// cut short; a missing file. Each is either repaired as designed or
// reported, never silently read as something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogStore } from '../../src/agent/store/log-store.js';
import { encodeEntry } from '../../src/agent/store/records.js';
import { entries, frames, segmentNames, snapshotAt, withTempDir } from './helpers.js';

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset]! ^= 0x5a;
  await writeFile(path, bytes);
}

async function writeLog(dir: string, last: number, segmentBytes = 1 << 20): Promise<void> {
  const { store } = await LogStore.open(dir, { segmentBytes });
  await store.save({ snapshot: null, entries: entries(1, last, 1), hardState: { term: 1, votedFor: 'n1', commit: 0 } }, true);
  await store.close();
}

test('a flipped byte in the middle of the log: corrupt, reported, earlier entries kept, files left as found', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 50);
    const [segment] = await segmentNames(dir);
    const path = join(dir, segment!);
    const bad = (await frames(path)).find((f) => f.index === 20)!;
    await flipByte(path, bad.offset + bad.length - 3);
    const damaged = await readFile(path);

    const { store, restored, recovery } = await LogStore.open(dir);
    assert.equal(restored.logCorrupt, true);
    assert.deepEqual(restored.entries, entries(1, 19, 1));
    assert.equal(recovery.tornTail, null);
    assert.equal(recovery.corruptRecords.length, 1);
    assert.equal(recovery.corruptRecords[0]!.segment, segment);
    assert.equal(recovery.corruptRecords[0]!.offset, bad.offset);
    assert.match(recovery.corruptRecords[0]!.reason, /checksum mismatch; valid records follow/);
    await assert.rejects(store.save({ snapshot: null, entries: entries(20, 20, 1), hardState: null }, true), { code: 'E_LOG_CORRUPT' });
    await store.close();
    assert.deepEqual(await readFile(path), damaged);
  }));

test('a damaged length field in the middle is found by scanning for the next valid record', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 30);
    const [segment] = await segmentNames(dir);
    const path = join(dir, segment!);
    const bad = (await frames(path)).find((f) => f.index === 10)!;
    await flipByte(path, bad.offset + 2);
    const { store, restored, recovery } = await LogStore.open(dir);
    assert.equal(restored.logCorrupt, true);
    assert.deepEqual(restored.entries, entries(1, 9, 1));
    assert.equal(recovery.corruptRecords[0]!.offset, bad.offset);
    await store.close();
  }));

test('damage at the end of a sealed (non-last) segment is corruption, not a torn tail', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 40, 200);
    const [firstSegment] = await segmentNames(dir);
    const path = join(dir, firstSegment!);
    const all = await frames(path);
    const last = all[all.length - 1]!;
    await flipByte(path, last.offset + last.length - 1);
    const { store, restored, recovery } = await LogStore.open(dir, { segmentBytes: 200 });
    assert.equal(restored.logCorrupt, true);
    assert.equal(recovery.tornTail, null);
    assert.match(recovery.corruptRecords[0]!.reason, /sealed segment/);
    assert.deepEqual(restored.entries, entries(1, last.index! - 1, 1));
    await store.close();
  }));

test('a flipped byte in the last record is a torn tail: cut, reported, and the log goes on', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 50);
    const [segment] = await segmentNames(dir);
    const path = join(dir, segment!);
    const last = (await frames(path)).at(-1)!;
    await flipByte(path, last.offset + 12);

    const first = await LogStore.open(dir);
    assert.equal(first.restored.logCorrupt, false);
    assert.deepEqual(first.restored.entries, entries(1, 49, 1));
    assert.deepEqual(first.recovery.tornTail, { segment, offset: last.offset, bytesCut: last.length });
    assert.equal((await stat(path)).size, last.offset);
    await first.store.save({ snapshot: null, entries: entries(50, 51, 1), hardState: null }, true);
    await first.store.close();
    const second = await LogStore.open(dir);
    assert.equal(second.recovery.tornTail, null);
    assert.deepEqual(second.restored.entries, entries(1, 51, 1));
    await second.store.close();
  }));

test('a partial record or zero fill at the end is a torn tail', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 20);
    const [segment] = await segmentNames(dir);
    const path = join(dir, segment!);
    const size = (await stat(path)).size;
    for (const tail of [encodeEntry(entries(21, 21, 1)[0]!).subarray(0, 13), Buffer.alloc(4096)]) {
      await appendFile(path, tail);
      const { store, restored, recovery } = await LogStore.open(dir);
      assert.equal(restored.logCorrupt, false);
      assert.deepEqual(restored.entries, entries(1, 20, 1));
      assert.deepEqual(recovery.tornTail, { segment, offset: size, bytesCut: tail.length });
      await store.close();
      assert.equal((await stat(path)).size, size);
    }
  }));

test('a missing segment in the middle is corruption', () =>
  withTempDir(async (dir) => {
    await writeLog(dir, 40, 200);
    const names = await segmentNames(dir);
    assert.ok(names.length >= 3);
    await unlink(join(dir, names[1]!));
    const { store, restored, recovery } = await LogStore.open(dir, { segmentBytes: 200 });
    assert.equal(restored.logCorrupt, true);
    assert.deepEqual(recovery.corruptRecords[0], { segment: names[1], offset: 0, reason: 'segment file missing' });
    await store.close();
  }));

test('one damaged hard-state slot falls back to the other copy, which holds the same term and vote, and is repaired', async () => {
  // The vote change went to both slots; the later commit-only change to slot 0 alone.
  for (const [slotOffset, commitLeft] of [[0, 1], [512, 4]] as const) {
    await withTempDir(async (dir) => {
      const { store } = await LogStore.open(dir);
      await store.save({ snapshot: null, entries: entries(1, 5, 3), hardState: { term: 3, votedFor: 'n2', commit: 1 } }, true);
      await store.save({ snapshot: null, entries: [], hardState: { term: 3, votedFor: 'n2', commit: 4 } }, true);
      await store.close();
      await flipByte(join(dir, 'hardstate'), slotOffset + 20);

      const first = await LogStore.open(dir);
      assert.equal(first.restored.logCorrupt, false);
      assert.equal(first.restored.hardState.term, 3);
      assert.equal(first.restored.hardState.votedFor, 'n2');
      assert.equal(first.restored.hardState.commit, commitLeft);
      assert.deepEqual(first.recovery.hardStateRefused, [{ offset: slotOffset, reason: 'checksum mismatch' }]);
      await first.store.close();
      const second = await LogStore.open(dir);
      assert.deepEqual(second.recovery.hardStateRefused, []);
      await second.store.close();
    });
  }
});

test('both hard-state slots damaged, or the file gone: the vote is unknown, so the log is reported corrupt', () =>
  withTempDir(async (dir) => {
    const { store } = await LogStore.open(dir);
    await store.save({ snapshot: null, entries: entries(1, 2, 1), hardState: { term: 1, votedFor: 'n1', commit: 0 } }, true);
    await store.close();
    const path = join(dir, 'hardstate');
    const intact = await readFile(path);
    await flipByte(path, 20);
    await flipByte(path, 512 + 20);
    const both = await LogStore.open(dir);
    assert.equal(both.restored.logCorrupt, true);
    assert.equal(both.recovery.hardStateRefused.length, 2);
    await both.store.close();

    await writeFile(path, intact);
    await unlink(path);
    const missing = await LogStore.open(dir);
    assert.equal(missing.restored.logCorrupt, true);
    assert.match(missing.recovery.hardStateRefused[0]!.reason, /missing/);
    await missing.store.close();
  }));

test('a damaged newest snapshot is refused and the previous one used while the log still reaches back', () =>
  withTempDir(async (dir) => {
    const { store } = await LogStore.open(dir);
    await store.save({ snapshot: null, entries: entries(1, 30, 2), hardState: { term: 2, votedFor: null, commit: 30 } }, true);
    await store.compact(snapshotAt(10, 2));
    await store.compact(snapshotAt(20, 2));
    await store.close();
    await flipByte(join(dir, 'snapshot-00000000000000000020.snap'), 40);

    const reopened = await LogStore.open(dir);
    assert.deepEqual(reopened.recovery.snapshotsRefused, [{ file: 'snapshot-00000000000000000020.snap', reason: 'checksum mismatch' }]);
    assert.equal(reopened.restored.logCorrupt, false);
    assert.deepEqual(reopened.restored.snapshot, snapshotAt(10, 2));
    assert.deepEqual(reopened.restored.entries, entries(11, 30, 2));
    // Compacting again from the older snapshot, below the damaged one's mark, stays consistent.
    await reopened.store.compact(snapshotAt(15, 2));
    await reopened.store.close();
    const again = await LogStore.open(dir);
    assert.equal(again.restored.logCorrupt, false);
    assert.equal(again.restored.snapshot?.meta.index, 15);
    assert.deepEqual(again.restored.entries, entries(16, 30, 2));
    await again.store.compact(snapshotAt(25, 2));
    await again.store.close();
    const snapshots = (await readdir(dir)).filter((n) => n.startsWith('snapshot-')).sort();
    assert.deepEqual(snapshots, ['snapshot-00000000000000000015.snap', 'snapshot-00000000000000000025.snap']);
  }));

test('a damaged snapshot whose entries are gone from the log: refused, and the log reported corrupt', () =>
  withTempDir(async (dir) => {
    const { store } = await LogStore.open(dir, { segmentBytes: 200 });
    await store.save({ snapshot: null, entries: entries(1, 60, 2), hardState: { term: 2, votedFor: null, commit: 60 } }, true);
    await store.compact(snapshotAt(50, 2));
    await store.close();
    await flipByte(join(dir, 'snapshot-00000000000000000050.snap'), 30);

    const reopened = await LogStore.open(dir, { segmentBytes: 200 });
    assert.equal(reopened.restored.snapshot, null);
    assert.equal(reopened.restored.logCorrupt, true);
    assert.equal(reopened.recovery.snapshotsRefused.length, 1);
    assert.ok(reopened.recovery.corruptRecords.some((c) => /damaged snapshot 50/.test(c.reason)));
    await reopened.store.close();
  }));
