// One agent as a real process: identity on first start, cluster.create,
// the state directory's permissions and lock, SIGTERM, and a restart that
// keeps everything committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import type { AgentIdentity, AgentStatus, ClusterStatus } from '../../src/client/api.js';
import { CLI_MAIN, call, logLines, restartAgent, startAgent, stopAgent, tempDir, waitUntil } from './helpers.js';
import type { AgentProcess } from './helpers.js';

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('a fresh agent makes its identity, creates a cluster, leads it, holds a lease, and keeps it across a restart', async () => {
  const dir = await tempDir('fcm-agent-one-');
  const stateDir = join(dir.path, 'n1');
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(stateDir, 'n1');
    const identity = await call<AgentIdentity>(agent.socket, 'agent.identity');
    assert.match(identity.nodeId, /^n[0-9a-f]{10}$/);
    assert.equal(identity.name, 'n1');
    assert.match(identity.publicKey, /^ssh-ed25519 /);
    assert.match(identity.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(await mode(stateDir), 0o700);
    assert.equal(await mode(join(stateDir, 'node_key')), 0o600);
    assert.equal(await mode(agent.socket), 0o600);
    assert.match(await readFile(join(stateDir, 'node_key'), 'utf8'), /BEGIN OPENSSH PRIVATE KEY/);

    const fresh = await call<AgentStatus>(agent.socket, 'agent.status');
    assert.equal(fresh.cluster, null);
    assert.equal(fresh.role, 'none');

    const created = await call<ClusterStatus>(agent.socket, 'cluster.create', { name: 'one' });
    assert.equal(created.cluster.name, 'one');
    assert.equal(created.leader?.id, identity.nodeId);
    assert.deepEqual(created.nodes.map((n) => [n.name, n.role, n.state]), [['n1', 'voter', 'Up']]);
    assert.equal(created.quorum.ok, true);

    const status = await waitUntil('a node lease', async () => {
      const s = await call<AgentStatus>(agent!.socket, 'agent.status');
      return s.leaseRemainingMs !== null ? s : undefined;
    });
    assert.equal(status.role, 'leader');
    assert.ok(status.leaseRemainingMs !== null && status.leaseRemainingMs > 0 && status.leaseRemainingMs <= 1000);
    assert.ok(status.rssBytes > 0);
    assert.ok(status.eventLoopDelayP99Ms >= 0);
    assert.ok(status.eventLoopDelayMaxMs >= status.eventLoopDelayP99Ms);
    // fcm agent run raises its priority (nice -10) where it may (root); elsewhere it keeps ours.
    assert.equal(status.nice, process.getuid?.() === 0 ? -10 : getPriority(process.pid));
    assert.deepEqual(status.fencing, { kind: 'none' });

    const set = await call<{ index: number; properties: Record<string, unknown> }>(agent.socket, 'config.set', { values: { historyLimit: '500' } });
    assert.equal(set.properties.historyLimit, 500);

    // A second agent on the same state directory is refused, and changes nothing.
    const second = spawn(process.execPath, [CLI_MAIN, '--json', 'agent', 'run', '--state-dir', stateDir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    second.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.equal((JSON.parse(out) as { error: { code: string } }).error.code, 'E_STATE_DIR_LOCKED');

    assert.deepEqual(await stopAgent(agent, 'SIGTERM'), { code: 0, signal: null });
    await assert.rejects(stat(agent.socket), { code: 'ENOENT' });
    await assert.rejects(stat(join(stateDir, 'agent.lock')), { code: 'ENOENT' });
    assert.ok((await logLines(agent)).some((l) => l.msg === 'agent stopped'));

    agent = await restartAgent(agent);
    assert.equal((await call<AgentIdentity>(agent.socket, 'agent.identity')).nodeId, identity.nodeId);
    const again = await waitUntil('the restarted node to lead', async () => {
      const s = await call<ClusterStatus>(agent!.socket, 'cluster.status');
      return s.leader !== null ? s : undefined;
    });
    assert.equal(again.cluster.id, created.cluster.id);
    const config = await call<{ properties: Record<string, unknown> }>(agent.socket, 'config.get', { key: 'historyLimit' });
    assert.equal(config.properties.historyLimit, 500);
  } finally {
    if (agent) await stopAgent(agent, 'SIGKILL');
    await dir.remove();
  }
});

test('a corrupt identity stops the start with E_CORRUPT_STATE and is left as it was', async () => {
  const dir = await tempDir('fcm-agent-corrupt-');
  const stateDir = join(dir.path, 'n1');
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(stateDir, 'n1');
    await stopAgent(agent, 'SIGTERM');
    agent = undefined;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(stateDir, 'identity.json'), '{"nodeId": "n1", "na');
    const child = spawn(process.execPath, [CLI_MAIN, '--json', 'agent', 'run', '--state-dir', stateDir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.equal((JSON.parse(out) as { error: { code: string } }).error.code, 'E_CORRUPT_STATE');
    assert.equal(await readFile(join(stateDir, 'identity.json'), 'utf8'), '{"nodeId": "n1", "na');
  } finally {
    if (agent) await stopAgent(agent, 'SIGKILL');
    await dir.remove();
  }
});
