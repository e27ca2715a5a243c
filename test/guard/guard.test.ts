// The lease guard as a process, with real cgroups and real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupTree } from '../../src/agent/guard/cgroups.js';
import { monotonicMs } from '../../src/agent/guard/clock.js';
import { GuardClient } from '../../src/agent/guard/guard-client.js';
import { guardSocketPath } from '../../src/agent/guard/guard-protocol.js';
import { UndoJournal } from '../../src/agent/guard/undo-journal.js';
import { allDead, cgroupSkip, isAlive, killChildren, LineSocket, removeCgroupRoot, sleepers, startGuard, startInGroup, stopGuard, testCgroupRoot, waitFor } from './helpers.js';
import type { GuardProcess } from './helpers.js';

interface Setup {
  stateDir: string;
  root: string;
  guard: GuardProcess;
  tree: CgroupTree;
}

/** A guard on a fresh state dir and cgroup root; everything is removed afterwards, whatever happened. */
async function withGuard(body: (s: Setup) => Promise<void>, before?: (s: Omit<Setup, 'guard'>) => Promise<void>): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const root = testCgroupRoot();
  let guard: GuardProcess | null = null;
  try {
    if (before !== undefined) await before({ stateDir, root, tree: await CgroupTree.open(root) });
    guard = await startGuard(['--state-dir', stateDir, '--node', 'n1', '--cgroup-root', root]);
    // Opened after the guard made the root, as the monitor would.
    await body({ stateDir, root, guard, tree: await CgroupTree.open(root) });
  } catch (err) {
    if (guard !== null) process.stderr.write(`guard log:\n${guard.stderr()}\n`);
    throw err;
  } finally {
    if (guard !== null) await stopGuard(guard);
    killChildren();
    await removeCgroupRoot(root);
    await rm(stateDir, { recursive: true, force: true });
  }
}

/**
 * The guard's status once it has recorded its last expiry: it records one
 * after the killed cgroups are empty, so the processes may be seen dead a
 * moment before (CI saw that once).
 */
async function statusAfterExpiry(client: GuardClient): Promise<Awaited<ReturnType<GuardClient['status']>>> {
  let status = await client.status();
  await waitFor(async () => (status = await client.status()).lastExpiry !== null, 5_000, 'the guard to record the expiry');
  return status;
}

test('the guard kills a group at its deadline, not before', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, tree }) => {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    const deadline = monotonicMs() + 1000;
    await client.lease(deadline, ['web']);
    const pids = await startInGroup(tree, 'web', sleepers(3), 3);
    await waitFor(() => allDead(pids), 10_000, 'the group to be killed');
    const status = await statusAfterExpiry(client);
    assert.equal(status.lastExpiry?.reason, 'deadline');
    assert.equal(status.lastExpiry?.deadlineMs, deadline);
    assert.ok((status.lastExpiry?.firedAtMs ?? 0) >= deadline, 'acted after the deadline');
    assert.ok((status.lastExpiry?.latenessMs ?? -1) >= 0);
    assert.deepEqual(status.lastExpiry?.stops.map((s) => [s.group, s.pids, s.empty]), [['web', 3, true]]);
    assert.equal(status.deadlineMs, null);
    assert.deepEqual(await tree.groups(), []);
    client.close();
  });
});

test('a renewed lease (later deadline) postpones the kill', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, tree }) => {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    const first = monotonicMs() + 1500;
    await client.lease(first, ['web']);
    const pids = await startInGroup(tree, 'web', sleepers(2), 2);
    await client.lease(monotonicMs() + 120_000, ['web']);
    await waitFor(() => monotonicMs() > first + 300, 5000, 'the first deadline to pass');
    assert.equal((await Promise.all(pids.map(isAlive))).every(Boolean), true, 'the group still runs');
    const status = await client.status();
    assert.equal(status.expiries, 0);
    assert.deepEqual(status.groups, ['web']);
    client.close();
    await waitFor(() => allDead(pids), 10_000, 'the group to die with the connection');
  });
});

test('stop-group kills that group only; a group left out of a newer lease is killed too', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, tree }) => {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    await client.lease(monotonicMs() + 120_000, ['a', 'b', 'c']);
    const a = await startInGroup(tree, 'a', sleepers(2), 2);
    const b = await startInGroup(tree, 'b', sleepers(2), 2);
    const c = await startInGroup(tree, 'c', sleepers(2), 2);
    const stop = await client.stopGroup('a');
    assert.deepEqual([stop.group, stop.pids, stop.empty, stop.errors], ['a', 2, true, []]);
    assert.ok(await allDead(a));
    assert.equal((await Promise.all([...b, ...c].map(isAlive))).every(Boolean), true, 'b and c still run');
    assert.deepEqual((await client.status()).groups, ['b', 'c']);

    await client.lease(monotonicMs() + 120_000, ['c']);
    await waitFor(() => allDead(b), 10_000, 'b, left out of the lease, to be killed');
    assert.equal((await Promise.all(c.map(isAlive))).every(Boolean), true, 'c still runs');
    assert.deepEqual((await tree.groups()).sort(), ['c']);
    client.close();
  });
});

test('when the agent\'s connection closes, every group is killed at once', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, tree }) => {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    await client.lease(monotonicMs() + 120_000, ['a', 'b']);
    const pids = [...(await startInGroup(tree, 'a', sleepers(3), 3)), ...(await startInGroup(tree, 'b', sleepers(3), 3))];
    client.close();
    await waitFor(() => allDead(pids), 10_000, 'both groups to be killed');
    const next = await GuardClient.connect(guardSocketPath(stateDir));
    const status = await statusAfterExpiry(next);
    assert.equal(status.lastExpiry?.reason, 'agent-gone');
    assert.deepEqual(status.lastExpiry?.stops.map((s) => s.group).sort(), ['a', 'b']);
    next.close();
  });
});

test('malformed requests are refused with their problems, and the guard goes on; a second connection is refused', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, guard }) => {
    const agent = await LineSocket.open(guardSocketPath(stateDir));
    for (const line of ['not json', '[]', '{"op":"reboot","id":1}', '{"op":"lease","deadlineMs":"soon","groups":["../etc"]}', '{"op":"stop-group"}']) {
      agent.send(line);
      const reply = await agent.next();
      assert.equal(reply.ok, false, line);
      assert.equal(reply.code, 'E_INVALID', line);
      assert.ok(Array.isArray(reply.problems) && reply.problems.length > 0, line);
    }
    const other = await LineSocket.open(guardSocketPath(stateDir));
    assert.equal((await other.next()).code, 'E_BUSY');
    agent.send('{"op":"status","id":"s"}');
    const status = await agent.next();
    assert.deepEqual([status.ok, status.id], [true, 's']);
    assert.equal(guard.child.exitCode, null, 'the guard is still running');
    // A runaway line: refused, and the connection closed (which would kill every group).
    agent.send('x'.repeat(300 * 1024));
    assert.equal((await agent.next()).code, 'E_TOO_LARGE');
    await waitFor(() => agent.socket.closed, 5000, 'the guard to close the connection');
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    assert.equal((await client.status()).pid, guard.child.pid);
    client.close();
  });
});

test('guard-main refuses bad arguments with every problem and exit status 2', async () => {
  const child = spawn(process.execPath, [new URL('../../src/agent/guard/guard-main.js', import.meta.url).pathname, '--node', 'n1', '--bogus', 'x', '--kill-timeout-ms', '-5'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 2);
  for (const problem of ['unknown argument --bogus', '--kill-timeout-ms must be', '--state-dir is required']) assert.ok(err.includes(problem), problem);
});

test('the guard stopped by PID leaves nothing behind', { skip: cgroupSkip }, async () => {
  await withGuard(async ({ stateDir, root, guard, tree }) => {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    await client.lease(monotonicMs() + 120_000, ['web']);
    const pids = await startInGroup(tree, 'web', sleepers(3), 3);
    let closedUnexpectedly = false;
    client.onClose((expected) => (closedUnexpectedly = !expected));
    assert.equal(await stopGuard(guard), 0);
    assert.ok(await allDead(pids), 'the group died with the guard');
    await assert.rejects(access(root), 'the cgroup root is removed');
    await assert.rejects(access(guardSocketPath(stateDir)), 'the socket is removed');
    await waitFor(() => closedUnexpectedly, 5000, 'the agent side to see the guard gone');
  });
});

test('a guard that starts kills the groups an earlier life left and runs their undo journals', { skip: cgroupSkip }, async () => {
  let leftover: number[] = [];
  await withGuard(
    async ({ stateDir, tree }) => {
      await waitFor(() => allDead(leftover), 10_000, 'the leftover group to be killed');
      assert.deepEqual(await tree.groups(), []);
      assert.equal(await readFile(join(stateDir, 'undone'), 'utf8'), 'yes\n');
      await assert.rejects(access(new UndoJournal(stateDir, 'old').path), 'the journal is cleared');
    },
    async ({ stateDir, tree }) => {
      leftover = await startInGroup(tree, 'old', sleepers(2), 2);
      await new UndoJournal(stateDir, 'old').record({ kind: 'command', argv: ['/bin/sh', '-c', `echo yes > '${join(stateDir, 'undone')}'`] });
    },
  );
});
