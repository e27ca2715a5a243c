import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, appendFile, mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GuardError } from '../../src/agent/guard/guard-error.js';
import { isMountPoint } from '../../src/agent/guard/mountinfo.js';
import { UndoJournal, journaledGroups } from '../../src/agent/guard/undo-journal.js';
import type { UndoEntry } from '../../src/agent/guard/undo-journal.js';
import { rootSkip } from './helpers.js';

const exec = promisify(execFile);

async function ipOk(...args: string[]): Promise<boolean> {
  return exec('ip', args).then(() => true, () => false);
}

test('an address added in a network namespace is removed, and removing it again is fine', { skip: rootSkip }, async (t) => {
  const ns = `fcm-guard-test-${process.pid}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  if (!(await ipOk('netns', 'add', ns))) {
    t.skip('SKIPPED: cannot create a network namespace (ip netns add)');
    return;
  }
  try {
    // A dummy interface where the kernel has the module; a veth pair otherwise.
    if (!(await ipOk('-n', ns, 'link', 'add', 'd0', 'type', 'dummy'))) {
      t.diagnostic('no dummy interfaces in this kernel: using a veth pair');
      await exec('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    }
    const journal = new UndoJournal(stateDir, 'web');
    const entries: UndoEntry[] = [
      { kind: 'ip-address', dev: 'd0', address: '10.77.0.5/24', netns: ns },
      { kind: 'ip-address', dev: 'd0', address: 'fd00:77::0005/64', netns: ns },
    ];
    for (const entry of entries) {
      await journal.record(entry);
      if (entry.kind === 'ip-address') await exec('ip', ['-n', ns, 'addr', 'add', entry.address, 'dev', 'd0']);
    }
    const shown = async (): Promise<string> => (await exec('ip', ['-n', ns, 'addr', 'show', 'dev', 'd0'])).stdout;
    assert.match(await shown(), /10\.77\.0\.5\/24/);
    assert.match(await shown(), /fd00:77::5\/64/);
    assert.deepEqual(await journaledGroups(stateDir), ['web']);

    const report = await journal.undo();
    assert.deepEqual(report, { group: 'web', undone: 2, failures: [], problems: [] });
    assert.doesNotMatch(await shown(), /10\.77\.0\.5|fd00:77::5/);
    await assert.rejects(access(journal.path), 'the journal is cleared');

    // Idempotent: already gone, and a device that no longer exists, both count as undone.
    await journal.record({ kind: 'ip-address', dev: 'd0', address: '10.77.0.5/24', netns: ns });
    await journal.record({ kind: 'ip-address', dev: 'gone0', address: '10.77.0.6/24', netns: ns });
    assert.deepEqual(await journal.undo(), { group: 'web', undone: 2, failures: [], problems: [] });
  } finally {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('a tmpfs mounted on a temp dir is unmounted', { skip: rootSkip }, async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const target = join(stateDir, 'mnt');
  await mkdir(target);
  try {
    const journal = new UndoJournal(stateDir, 'db');
    await journal.record({ kind: 'mount', target });
    await exec('mount', ['-t', 'tmpfs', 'fcm-guard-test', target]);
    await writeFile(join(target, 'data'), 'x');
    assert.equal(await isMountPoint(target), true);
    assert.deepEqual(await journal.undo(), { group: 'db', undone: 1, failures: [], problems: [] });
    assert.equal(await isMountPoint(target), false);
    await assert.rejects(access(join(target, 'data')), 'the tmpfs content is gone with it');
    await rmdir(target);
    // The target itself gone: nothing mounted there, undone.
    await journal.record({ kind: 'mount', target });
    assert.equal((await journal.undo()).undone, 1);
  } finally {
    await exec('umount', ['-l', target]).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('entries are undone newest first; a failing one is reported and kept, the rest still run', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const log = join(stateDir, 'order');
  try {
    const journal = new UndoJournal(stateDir, 'app');
    const say = (word: string): UndoEntry => ({ kind: 'command', argv: ['/bin/sh', '-c', `echo ${word} >> '${log}'`] });
    await journal.record(say('first'));
    await journal.record({ kind: 'command', argv: ['/bin/sh', '-c', 'echo cannot >&2; exit 3'] });
    await journal.record(say('second'));
    const report = await journal.undo();
    assert.equal(report.undone, 2);
    assert.equal(report.failures.length, 1);
    assert.match(report.failures[0]?.message ?? '', /E_UNDO_FAILED|failed \(3\)/);
    assert.equal(await readFile(log, 'utf8'), 'second\nfirst\n');
    const left = await journal.read();
    assert.deepEqual(left.entries, [{ kind: 'command', argv: ['/bin/sh', '-c', 'echo cannot >&2; exit 3'] }]);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('a torn last line is ignored, a corrupt one reported, and the next record starts a fresh line', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    const journal = new UndoJournal(stateDir, 'app');
    await journal.record({ kind: 'mount', target: '/nonexistent/fcm-a' });
    await appendFile(journal.path, 'not json\n{"kind":"mount","target":"relative"}\n{"kind":"mount","tar');
    const before = await journal.read();
    assert.equal(before.entries.length, 1);
    assert.deepEqual(before.problems.map((p) => [p.code, p.field]), [['E_CORRUPT', 'line 2'], ['E_CORRUPT', 'line 3: target']]);
    await journal.record({ kind: 'mount', target: '/nonexistent/fcm-b' });
    const after = await journal.read();
    assert.deepEqual(after.entries, [{ kind: 'mount', target: '/nonexistent/fcm-a' }, { kind: 'mount', target: '/nonexistent/fcm-b' }]);
    assert.equal(after.problems.length, 3, 'the torn line became a corrupt line of its own');
    const report = await journal.undo();
    assert.equal(report.undone, 2);
    await assert.rejects(access(journal.path));
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('record refuses a bad entry with every problem, before writing anything', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    const journal = new UndoJournal(stateDir, 'app');
    const bad = { kind: 'ip-address', dev: 'has space', address: '10.0.0.1/33', netns: '../x', extra: 1 } as unknown as UndoEntry;
    await assert.rejects(journal.record(bad), (err: unknown) => {
      assert.ok(err instanceof GuardError);
      assert.equal(err.code, 'E_INVALID');
      assert.deepEqual(err.problems.map((p) => p.field).sort(), ['address', 'dev', 'extra', 'netns']);
      return true;
    });
    await assert.rejects(journal.record({ kind: 'command', argv: [] }), GuardError);
    await assert.rejects(access(journal.path), 'nothing was written');
    assert.throws(() => new UndoJournal(stateDir, '../escape'), GuardError);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
