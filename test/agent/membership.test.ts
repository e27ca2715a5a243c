// Removing nodes from a running cluster of real agents: a follower leaves
// cleanly (and forgets the cluster), a down node cannot leave cleanly but
// can be evicted, and the leader hands leadership over before it leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentIdentity, AgentStatus, NodeView } from '../../src/client/api.js';
import { addToCluster, call, callError, startThreeNodeCluster, stopAgent, tempDir, waitUntil } from './helpers.js';
import type { AgentProcess } from './helpers.js';

const names = async (agent: AgentProcess): Promise<string[]> => (await call<NodeView[]>(agent.socket, 'node.list')).map((n) => n.name);

test('remove a follower, refuse then evict a down node, remove the leader after it hands over', async () => {
  const dir = await tempDir('fcm-agent-members-');
  const agents: AgentProcess[] = [];
  try {
    const [n1, n2, n3] = await startThreeNodeCluster(dir.path, 'm', agents);

    // Down to two voters the database wants --force (losing either would lose quorum).
    assert.equal((await callError(n2.socket, 'node.remove', { node: 'n3' })).code, 'E_QUORUM_AT_RISK');
    const before = await call<AgentIdentity>(n3.socket, 'agent.identity');
    assert.deepEqual(await call(n2.socket, 'node.remove', { node: 'n3', force: true }), { removed: 'n3' });
    assert.deepEqual(await names(n1), ['n1', 'n2']);
    const left = await call<AgentStatus>(n3.socket, 'agent.status');
    assert.equal(left.cluster, null);
    assert.notEqual(left.identity.incarnation, before.incarnation, 'a node that left has a new incarnation');
    await assert.rejects(stat(join(n3.stateDir, 'cluster.json')), { code: 'ENOENT' });

    // n3 comes back (same node id, new incarnation), then dies: it cannot leave cleanly, it can be evicted.
    await addToCluster(n1, n3, [n1, n2]);
    await waitUntil('n3 a voter again', async () => (await call<NodeView[]>(n1.socket, 'node.list')).some((n) => n.name === 'n3' && n.role === 'voter' && n.state === 'Up'));
    await stopAgent(n3, 'SIGKILL');
    await waitUntil('n3 Down', async () => (await call<NodeView[]>(n1.socket, 'node.list')).some((n) => n.name === 'n3' && n.state === 'Down'));
    assert.equal((await callError(n1.socket, 'node.remove', { node: 'n3', force: true })).code, 'E_REFUSED');
    assert.deepEqual(await call(n1.socket, 'node.evict', { node: 'n3', force: true }), { removed: 'n3' });
    assert.deepEqual(await names(n2), ['n1', 'n2']);

    // The leader leaves: leadership moves first, the other node goes on alone.
    const leader = (await call<AgentStatus>(n1.socket, 'agent.status')).role === 'leader' ? n1 : n2;
    const other = leader === n1 ? n2 : n1;
    assert.deepEqual(await call(leader.socket, 'node.remove', { node: leader.name }), { removed: leader.name });
    assert.equal((await call<AgentStatus>(leader.socket, 'agent.status')).cluster, null);
    const alone = await waitUntil('the other node to lead alone', async () => {
      const s = await call<AgentStatus>(other.socket, 'agent.status');
      return s.role === 'leader' ? s : undefined;
    });
    assert.equal(alone.leader?.name, other.name);
    assert.deepEqual(await names(other), [other.name]);
    await call(other.socket, 'config.set', { values: { historyLimit: '321' } });

    // Pause and resume go through the leader from any node; destroy with `all` empties every node.
    await addToCluster(other, leader, [other]);
    await waitUntil('two voters', async () => (await call<NodeView[]>(other.socket, 'node.list')).filter((n) => n.role === 'voter' && n.state === 'Up').length === 2);
    assert.equal((await call<NodeView>(leader.socket, 'node.pause', { node: other.name })).state, 'Paused');
    assert.equal((await call<NodeView>(leader.socket, 'node.show', { node: other.name })).state, 'Paused');
    assert.equal((await call<NodeView>(leader.socket, 'node.resume', { node: other.name })).state, 'Up');
    const destroyed = await call<{ destroyed: string[] }>(leader.socket, 'cluster.destroy', { all: true });
    assert.deepEqual(destroyed.destroyed, [n1.name, n2.name]);
    for (const a of [n1, n2]) assert.equal((await call<AgentStatus>(a.socket, 'agent.status')).cluster, null);
  } finally {
    await Promise.all(agents.map((a) => stopAgent(a, 'SIGKILL')));
    await dir.remove();
  }
});
