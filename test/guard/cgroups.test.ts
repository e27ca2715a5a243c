import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CgroupTree, openContainment } from '../../src/agent/guard/cgroups.js';
import { GuardError } from '../../src/agent/guard/guard-error.js';
import { findCgroup2Mount, parseMountinfo } from '../../src/agent/guard/mountinfo.js';
import { allDead, cgroupSkip, killChildren, removeCgroupRoot, startInGroup, testCgroupRoot, waitFor } from './helpers.js';

test('parseMountinfo reads the mount point past optional fields and unescapes it', () => {
  const text = [
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw',
    '50 23 0:45 / /mnt/with\\040space rw - tmpfs none rw',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    'garbage',
    '',
  ].join('\n');
  assert.deepEqual(parseMountinfo(text), [
    { mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2' },
    { mountPoint: '/mnt/with space', fsType: 'tmpfs' },
    { mountPoint: '/sys/fs/cgroup/cpu', fsType: 'cgroup' },
  ]);
});

test('a group of processes, a double-forked grandchild in its own session included, is entirely killed', { skip: cgroupSkip }, async () => {
  const root = testCgroupRoot();
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const orphanFile = join(dir, 'orphan.pid');
  try {
    const tree = await CgroupTree.open(root);
    // sh + a background child + a grandchild whose parents exit (reparented, new session), then sh becomes a sleep.
    const script = `sleep 1000 & ( setsid sh -c 'sleep 1000 & echo $! > "$0"' '${orphanFile}' & ) ; exec sleep 1000`;
    const pids = await startInGroup(tree, 'web', script, 3);
    await waitFor(async () => access(orphanFile).then(() => true, () => false), 10_000, 'the orphan pid file');
    const orphan = Number((await readFile(orphanFile, 'utf8')).trim());
    await waitFor(async () => (await tree.pids('web')).includes(orphan), 10_000, 'the orphan in the cgroup');
    const outcome = await tree.kill('web', 5000);
    assert.equal(outcome.empty, true);
    assert.ok(outcome.pids >= 3, `killed ${outcome.pids} processes`);
    assert.ok(await allDead([...pids, orphan]), 'every process of the group is dead');
    await assert.rejects(access(join(root, 'web')), 'the group cgroup is removed');
    assert.deepEqual(await tree.groups(), []);
    await tree.close();
    await assert.rejects(access(root), 'close() removes the root it made');
  } finally {
    killChildren();
    await removeCgroupRoot(root);
    await rm(dir, { recursive: true, force: true });
  }
});

test('spawnArgs puts the command in the group\'s cgroup before it runs', { skip: cgroupSkip }, async () => {
  const root = testCgroupRoot();
  try {
    const tree = await CgroupTree.open(root);
    const dir = await tree.create('db');
    const [file = '', ...args] = tree.spawnArgs('db', ['cat', '/proc/self/cgroup']);
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    const mount = (await findCgroup2Mount()) ?? '';
    assert.match(out, new RegExp(`^0::/${relative(mount, dir)}$`, 'm'));
    await tree.kill('db', 5000);
    await tree.close();
  } finally {
    await removeCgroupRoot(root);
  }
});

test('spawnArgs runs nothing and exits 125 when the cgroup cannot be entered', { skip: cgroupSkip }, async () => {
  const root = testCgroupRoot();
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    const tree = await CgroupTree.open(root);
    const marker = join(dir, 'ran');
    // 'missing' was never created: entering fails.
    const [file = '', ...args] = tree.spawnArgs('missing', ['touch', marker]);
    const code = await new Promise((resolve) => spawn(file, args, { stdio: 'ignore' }).on('close', resolve));
    assert.equal(code, 125);
    await assert.rejects(access(marker));
    await tree.close();
  } finally {
    await removeCgroupRoot(root);
    await rm(dir, { recursive: true, force: true });
  }
});

test('killing a group that does not exist reports it empty', { skip: cgroupSkip }, async () => {
  const root = testCgroupRoot();
  try {
    const tree = await CgroupTree.open(root);
    assert.deepEqual(await tree.kill('never', 1000), { group: 'never', pids: 0, killMs: 0, empty: true });
    await tree.close();
  } finally {
    await removeCgroupRoot(root);
  }
});

test('an explicit cgroup root that is not in cgroup v2 is refused, not silently replaced by the fallback', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    await assert.rejects(
      openContainment({ nodeName: 'n1', stateDir: dir, cgroupRoot: join(dir, 'not-a-cgroup'), warn: () => assert.fail('no warning expected') }),
      (err: unknown) => err instanceof GuardError && err.code === 'E_NO_CGROUP',
    );
    await assert.rejects(
      openContainment({ nodeName: '../n1', stateDir: dir, warn: () => undefined }),
      (err: unknown) => err instanceof GuardError && err.code === 'E_INVALID',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
