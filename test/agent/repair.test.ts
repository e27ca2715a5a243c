// A node whose consensus log is corrupt inside acknowledged entries cannot
// take part: its agent refuses to start, naming the repair. `fcm agent
// repair` (agent stopped) keeps the damaged log aside and makes the node a
// fresh agent with a new incarnation; the cluster evicts its old self and
// adds it again, and it catches up with everything committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentIdentity } from '../../src/client/api.js';
import { fcm } from '../e2e/helpers.js';
import { addToCluster, call, restartAgent, startThreeNodeCluster, stopAgent, tempDir, untilUpVoters, waitUntil } from './helpers.js';
import type { AgentProcess } from './helpers.js';

const historyLimitOf = async (agent: AgentProcess): Promise<unknown> =>
  (await call<{ properties: Record<string, unknown> }>(agent.socket, 'config.get', { key: 'historyLimit' })).properties.historyLimit;

/** Flips one byte a third of the way into the node's largest log segment: valid records follow, so this is corruption, not a torn tail. */
async function damageLog(stateDir: string): Promise<void> {
  const raft = join(stateDir, 'raft');
  const segments = await Promise.all((await readdir(raft)).filter((n) => n.endsWith('.log')).map(async (n) => ({ path: join(raft, n), size: (await stat(join(raft, n))).size })));
  const largest = segments.sort((a, b) => b.size - a.size)[0];
  assert.ok(largest && largest.size > 3_000, 'a log with entries to damage');
  const file = await open(largest.path, 'r+');
  try {
    const at = Math.floor(largest.size / 3);
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, at);
    byte[0] = (byte[0] as number) ^ 0xff;
    await file.write(byte, 0, 1, at);
  } finally {
    await file.close();
  }
}

test('a node with a corrupt log refuses to start and names the repair; fcm agent repair, evict and add bring it back with everything committed', { timeout: 120_000 }, async () => {
  const dir = await tempDir('fcm-agent-repair-');
  const agents: AgentProcess[] = [];
  try {
    const [n1, n2, n3] = await startThreeNodeCluster(dir.path, 'trio', agents);
    for (let i = 0; i < 40; i++) await call(n1.socket, 'config.set', { values: { historyLimit: String(2000 + i) } });
    await waitUntil('n3 to apply every change', async () => (await historyLimitOf(n3)) === 2039);
    const before = await call<AgentIdentity>(n3.socket, 'agent.identity');

    assert.deepEqual(await stopAgent(n3, 'SIGTERM'), { code: 0, signal: null });
    await damageLog(n3.stateDir);

    // Started on the damaged log, the agent refuses to start, saying what is wrong and how to repair it.
    const refused = await restartAgent(n3).then(() => null, (err: unknown) => String(err));
    assert.ok(refused !== null, 'the agent did not start');
    assert.match(refused, /E_LOG_CORRUPT|corrupt inside acknowledged entries/);
    assert.match(refused, /fcm agent repair --state-dir /);
    // The cluster goes on without it.
    await call(n1.socket, 'config.set', { values: { historyLimit: '3000' } });

    const repaired = fcm(process.env, ['agent', 'repair', '--state-dir', n3.stateDir, '--yes', '--json']);
    assert.equal(repaired.status, 0, repaired.out + repaired.err);
    const result = JSON.parse(repaired.out) as { node: string; cluster: string; logWasCorrupt: boolean; problems: string[]; keptAs: string; next: string[] };
    assert.deepEqual([result.node, result.cluster, result.logWasCorrupt], ['n3', 'trio', true]);
    assert.ok(result.problems.some((p) => /checksum/.test(p)), result.problems.join('; '));
    assert.ok(existsSync(join(result.keptAs, (await readdir(result.keptAs)).find((n) => n.endsWith('.log')) ?? 'none')), 'the damaged log is kept');
    assert.equal(existsSync(join(n3.stateDir, 'cluster.json')), false);
    // Once repaired there is nothing left to repair; without --yes and a terminal nobody can confirm.
    const again = fcm(process.env, ['agent', 'repair', '--state-dir', n3.stateDir, '--yes', '--json']);
    assert.equal((JSON.parse(again.out) as { error: { code: string } }).error.code, 'E_REFUSED');
    assert.notEqual(fcm(process.env, ['agent', 'repair', '--state-dir', n3.stateDir, '--json']).status, 0);
    // Where no agent has run (no directory, an empty one), nothing is created and nothing is repaired.
    await mkdir(join(dir.path, 'empty'));
    for (const nowhere of [join(dir.path, 'missing'), join(dir.path, 'empty')]) {
      const none = fcm(process.env, ['agent', 'repair', '--state-dir', nowhere, '--yes', '--json']);
      assert.equal((JSON.parse(none.out) as { error: { code: string } }).error.code, 'E_NOT_FOUND', nowhere);
      assert.equal(none.status, 3);
    }
    assert.equal(existsSync(join(dir.path, 'missing')), false);
    assert.deepEqual(await readdir(join(dir.path, 'empty')), []);

    // Two voters are left until it is added back: the eviction must be forced, as `next` says.
    assert.match(result.next[0] ?? '', /fcm node evict n3 --yes --force/);
    const evicted = await call<{ removed: string }>(n1.socket, 'node.evict', { node: 'n3', force: true });
    assert.equal(evicted.removed, 'n3');
    const fresh = await restartAgent(n3);
    agents[2] = fresh;
    // A running agent's state directory is not repaired under it.
    const locked = fcm(process.env, ['agent', 'repair', '--state-dir', n3.stateDir, '--yes', '--force', '--json']);
    assert.equal((JSON.parse(locked.out) as { error: { code: string } }).error.code, 'E_STATE_DIR_LOCKED');
    const after = await call<AgentIdentity>(fresh.socket, 'agent.identity');
    assert.equal(after.nodeId, before.nodeId);
    assert.notEqual(after.incarnation, before.incarnation);

    await addToCluster(n1, fresh, [n1, n2]);
    await untilUpVoters(n1, 3, 30_000);
    await waitUntil('n3 to hold everything committed', async () => (await historyLimitOf(fresh)) === 3000);
    const history = await call<{ summary: string }[]>(fresh.socket, 'config.history', { type: 'property', limit: 1000 });
    assert.ok(history.length >= 41, `${history.length} property changes`);
  } finally {
    await Promise.all(agents.map((a) => stopAgent(a, 'SIGKILL')));
    await dir.remove();
  }
});
