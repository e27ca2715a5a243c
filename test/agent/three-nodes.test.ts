// Three agents as real processes over real SSH on loopback: create on one,
// join and add the others, a change made through a follower read back from
// every node, then SIGKILL of a follower and of the leader: a new leader,
// nothing committed lost, and the killed nodes restart from their state
// directories and catch up. Last, a node cut off from every other loses its
// node lease and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentStatus, ClusterStatus, NodeView } from '../../src/client/api.js';
import { call, callError, logLines, restartAgent, startThreeNodeCluster, stopAgent, tempDir, waitUntil } from './helpers.js';
import type { AgentProcess } from './helpers.js';

const historyLimitOf = async (agent: AgentProcess): Promise<unknown> =>
  (await call<{ properties: Record<string, unknown> }>(agent.socket, 'config.get', { key: 'historyLimit' })).properties.historyLimit;

async function leaderOf(agents: AgentProcess[]): Promise<AgentProcess> {
  return waitUntil('one leader', async () => {
    for (const a of agents) {
      const s = await call<AgentStatus>(a.socket, 'agent.status').catch(() => undefined);
      if (s?.role === 'leader') return a;
    }
    return undefined;
  }, 20_000);
}

test('three agents: join, replicate, survive SIGKILL of a follower and of the leader, and catch up after restart', async () => {
  const dir = await tempDir('fcm-agent-three-');
  const agents: AgentProcess[] = [];
  try {
    const [n1, n2, n3] = await startThreeNodeCluster(dir.path, 'trio', agents);
    assert.deepEqual((await call<NodeView[]>(n1.socket, 'node.list')).map((n) => n.name), ['n1', 'n2', 'n3']);

    // Any node can be asked: a follower forwards the change to the leader.
    const set = await call<{ index: number }>(n2.socket, 'config.set', { values: { historyLimit: '777' } });
    assert.ok(set.index > 0);
    for (const a of agents) await waitUntil(`${a.name} to apply the change`, async () => (await historyLimitOf(a)) === 777);
    const history = await call<{ actor: string; type: string }[]>(n3.socket, 'config.history', { type: 'property' });
    assert.match(history.at(-1)?.actor ?? '', /^local:\d+$/);
    // node.list on a follower shows the leader's view.
    const viaFollower = await call<NodeView[]>(n3.socket, 'node.list');
    assert.ok(viaFollower.every((n) => n.state === 'Up'));
    // Leases: every node holds one, and the leader knows what each reported.
    await waitUntil('leases everywhere', async () => {
      const nodes = await call<NodeView[]>(n1.socket, 'node.list');
      return nodes.every((n) => n.leaseRemainingMs !== null && n.leaseRemainingMs > 0);
    });
    // Followers measure the gaps between the leader's heartbeats (agent.status).
    await waitUntil('heartbeat gaps on every follower', async () => {
      const statuses = await Promise.all(agents.map((a) => call<AgentStatus>(a.socket, 'agent.status')));
      return statuses.every((s) => s.heartbeatIntervalMs === 100
        && (s.role === 'leader' || (s.heartbeatGapP99Ms !== null && s.heartbeatGapMaxMs !== null && s.heartbeatGapMaxMs >= s.heartbeatGapP99Ms)));
    });

    // SIGTERM of the leader: it hands leadership over first, then exits 0.
    const termed = await leaderOf(agents);
    assert.deepEqual(await stopAgent(termed, 'SIGTERM'), { code: 0, signal: null });
    assert.ok((await logLines(termed)).some((l) => l.msg === 'leadership handed over before stopping'));
    await leaderOf(agents.filter((a) => a !== termed));
    agents[agents.indexOf(termed)] = await restartAgent(termed);

    // SIGKILL a follower; the others go on and commit without it.
    const leader = await leaderOf(agents);
    const follower = agents.find((a) => a !== leader) as AgentProcess;
    await stopAgent(follower, 'SIGKILL');
    await call(leader.socket, 'config.set', { values: { historyLimit: '778' } });
    const followerIndex = agents.indexOf(follower);
    agents[followerIndex] = await restartAgent(follower);
    await waitUntil('the restarted follower to catch up', async () => (await historyLimitOf(agents[followerIndex] as AgentProcess)) === 778);

    // SIGKILL the leader: a new one is elected, and nothing committed is lost.
    const oldLeader = await leaderOf(agents);
    await stopAgent(oldLeader, 'SIGKILL');
    const survivors = agents.filter((a) => a !== oldLeader);
    const newLeader = await leaderOf(survivors);
    assert.notEqual(newLeader.name, oldLeader.name);
    for (const a of survivors) assert.equal(await historyLimitOf(a), 778);
    await call((survivors[1] as AgentProcess).socket, 'config.set', { values: { historyLimit: '779' } }).catch(async () => {
      // A request racing the election may be refused; the second try must work.
      await call((survivors[1] as AgentProcess).socket, 'config.set', { values: { historyLimit: '779' } });
    });
    const oldIndex = agents.indexOf(oldLeader);
    agents[oldIndex] = await restartAgent(oldLeader);
    for (const a of agents) await waitUntil(`${a.name} to have every change`, async () => (await historyLimitOf(a)) === 779);
    const status = await call<ClusterStatus>(agents[oldIndex]!.socket, 'cluster.status', { consistent: true });
    assert.equal(status.nodes.length, 3);
    assert.equal(status.quorum.ok, true);

    // Cut one node off (the other two stop): it cannot renew its lease and says so.
    const [last, ...others] = agents as [AgentProcess, ...AgentProcess[]];
    await waitUntil('a lease on the node to be cut off', async () => (await call<AgentStatus>(last.socket, 'agent.status')).leaseRemainingMs !== null);
    for (const a of others) await stopAgent(a, 'SIGKILL');
    await waitUntil('the lease to run out', async () => (await call<AgentStatus>(last.socket, 'agent.status')).leaseRemainingMs === null);
    await waitUntil('"lease lost" in the log', async () => (await logLines(last)).some((l) => l.msg === 'lease lost'));
    // Without a quorum a change cannot be made: refused, not hung.
    const refused = await callError(last.socket, 'config.set', { values: { historyLimit: '780' } });
    assert.ok(['E_NO_QUORUM', 'E_NOT_LEADER', 'E_UNAVAILABLE', 'E_TIMEOUT'].includes(refused.code), refused.code);
  } finally {
    await Promise.all(agents.map((a) => stopAgent(a, 'SIGKILL')));
    await dir.remove();
  }
});
