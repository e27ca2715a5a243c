import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroupTree, readProcStat } from '../../src/agent/guard/process-groups.js';
import { allDead, isAlive, killChildren, startInGroup } from './helpers.js';

test('the process-group fallback kills every process of a group\'s process groups', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    const tree = await ProcessGroupTree.open(join(dir, 'process-groups'));
    const pids = await startInGroup(tree, 'web', 'sleep 1000 & sleep 1000 & exec sleep 1000', 3);
    const second = await startInGroup(tree, 'web', 'sleep 1000 & exec sleep 1000', 5);
    const outcome = await tree.kill('web', 5000);
    assert.equal(outcome.empty, true);
    assert.equal(outcome.pids, 5);
    assert.ok(await allDead([...pids, ...second]));
    await assert.rejects(access(join(dir, 'process-groups', 'web')), 'the group record is removed');
    await tree.close();
    await assert.rejects(access(join(dir, 'process-groups')));
  } finally {
    killChildren();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the fallback refuses to start a process that does not lead its own process group', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  try {
    const tree = await ProcessGroupTree.open(join(dir, 'process-groups'));
    await tree.create('web');
    const marker = join(dir, 'ran');
    const [file = '', ...args] = tree.spawnArgs('web', ['touch', marker]);
    // Not detached: it stays in the test's process group, which kill(-pgid) must never hit.
    const code = await new Promise((resolve) => spawn(file, args, { stdio: 'ignore' }).on('close', resolve));
    assert.equal(code, 125);
    await assert.rejects(access(marker));
    assert.deepEqual(await tree.pids('web'), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a record whose pid now names another process (other start time) is never signalled', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const bystander = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  try {
    const pid = bystander.pid ?? assert.fail('no pid');
    const stat = (await readProcStat(pid)) ?? assert.fail('no stat');
    const tree = await ProcessGroupTree.open(join(dir, 'process-groups'));
    const groupDir = await tree.create('old');
    // As if an earlier process group with this id ended and the number was reused.
    await writeFile(join(groupDir, String(pid)), `${stat.startTime - 1}\n`);
    assert.deepEqual(await tree.pids('old'), []);
    const outcome = await tree.kill('old', 1000);
    assert.equal(outcome.pids, 0);
    assert.equal(await isAlive(pid), true, 'the unrelated process lives');
  } finally {
    bystander.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
