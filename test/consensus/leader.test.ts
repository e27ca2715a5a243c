// Leader lease, leadership transfer and read-index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftProfiles } from '../../src/agent/consensus/config.js';
import { TestNet } from './harness.js';

const { heartbeatIntervalMs: H, electionTimeoutMinMs: E, leaderLeaseMs: LL, transferTimeoutMs } = raftProfiles.fast;
const others = (leader: string) => ['a', 'b', 'c'].filter((id) => id !== leader) as [string, string];

test('the leader lease extends on quorum acks of a round, from that round\'s send time', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  net.run(H * 3);
  const l = net.raft(leader);
  // Acks arrive at once here, so the lease runs from the last round sent.
  const lastRoundAt = net.now - ((net.now - (l.nextWakeAt() - H)) % H);
  assert.equal(l.status().leaderLeaseUntil, lastRoundAt + LL);
  for (const id of others(leader)) assert.equal(net.raft(id).status().leaderLeaseUntil, -Infinity);

  // One follower cut off: the other still makes a quorum.
  const [f1, f2] = others(leader);
  net.isolate(f1);
  net.run(H * 3);
  assert.ok(l.status().leaderLeaseUntil > net.now);

  // Both cut off: rounds go unacknowledged and the lease runs out...
  net.isolate(f2);
  const frozen = l.status().leaderLeaseUntil;
  net.run(H * 2);
  assert.equal(l.status().leaderLeaseUntil, frozen);
  net.run(LL);
  assert.ok(l.status().leaderLeaseUntil < net.now);
  // ...and after check-quorum's step-down there is no lease at all.
  net.runUntil(() => l.status().role !== 'leader');
  assert.equal(l.status().leaderLeaseUntil, -Infinity);
});

test('leadership transfer: proposals refused, lease stopped, the target leads', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const old = net.electLeader();
  const [target] = others(old);
  const term = net.raft(old).status().term;
  // The target lags: it must be caught up before timeout-now.
  net.crash(target);
  net.raft(old).propose('x', net.now);
  net.flush();
  net.restart(target);
  const r = net.raft(old).transferLeadership(target, net.now);
  assert.deepEqual(r, { ok: true, index: net.raft(old).status().lastIndex, term });
  assert.equal(net.raft(old).status().leaderLeaseUntil, -Infinity, 'the lease stops first');
  const refused = net.raft(old).propose('y', net.now);
  assert.equal(!refused.ok && refused.code, 'E_TRANSFERRING');
  net.flush();
  assert.equal(net.leader(), target);
  assert.equal(net.raft(target).status().term, term + 1);
  assert.equal(net.raft(old).status().role, 'follower');
  assert.deepEqual(net.node(target).commands, ['x']);
});

test('a transfer to an unreachable target is abandoned after transferTimeoutMs; the lease stays off', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const l = net.electLeader();
  const [target] = others(l);
  net.isolate(target);
  assert.equal(net.raft(l).transferLeadership(target, net.now).ok, true);
  assert.equal(!net.raft(l).propose('y', net.now).ok, true);
  net.run(transferTimeoutMs + 1);
  assert.equal(net.leader(), l);
  assert.equal(net.raft(l).propose('z', net.now).ok, true);
  assert.equal(net.raft(l).status().leaderLeaseUntil, -Infinity, 'a timeout-now may still be in flight');
  const bad = net.raft(l).transferLeadership(l, net.now);
  assert.equal(!bad.ok && bad.code, 'E_INVALID_MEMBERSHIP');
});

test('read-index: served after a quorum confirms a later round; followers answer E_NOT_LEADER', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  net.raft(leader).propose('x', net.now);
  net.flush();
  const commit = net.raft(leader).status().commitIndex;
  net.raft(leader).readIndex('r1', net.now);
  assert.deepEqual(net.node(leader).readStates, [], 'not before the round is acknowledged');
  net.flush();
  assert.deepEqual(net.node(leader).readStates, [{ requestId: 'r1', index: commit }]);

  const [f] = others(leader);
  net.raft(f).readIndex('r2', net.now);
  net.flush();
  assert.deepEqual(net.node(f).readFailures, [{ requestId: 'r2', code: 'E_NOT_LEADER', leader }]);

  // Without a quorum the read waits, and fails when the leader steps down.
  net.isolate(leader);
  net.raft(leader).readIndex('r3', net.now);
  net.run(E * 2);
  assert.deepEqual(net.node(leader).readStates.map((r) => r.requestId), ['r1']);
  assert.deepEqual(net.node(leader).readFailures.map((r) => r.requestId), ['r3']);
});

test('read-index on a new leader waits until it committed an entry of its term', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  let holdAcks = true;
  net.filter = (m) => (holdAcks && m.type === 'append-resp' ? null : m);
  net.runUntil(() => net.leader() !== null);
  const leader = net.leader() as string;
  net.raft(leader).readIndex('r', net.now);
  net.run(H * 3);
  assert.deepEqual(net.node(leader).readStates, []);
  holdAcks = false;
  net.runUntil(() => net.node(leader).readStates.length === 1, E * 3);
  assert.deepEqual(net.node(leader).readStates, [{ requestId: 'r', index: net.raft(leader).status().lastIndex }]);
});
