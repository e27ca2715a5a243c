import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestNet, voters } from './harness.js';

test('a single bootstrapped node elects itself and commits', () => {
  const net = TestNet.bootstrapped(['a']);
  const a = net.raft('a');
  assert.equal(a.status().lastIndex, 1, 'bootstrap config entry at index 1');
  assert.equal(a.status().term, 1);
  net.run(net.config.electionTimeoutMinMs * 2);
  const s = a.status();
  assert.equal(s.role, 'leader');
  assert.equal(s.term, 2);
  assert.equal(s.commitIndex, 2, 'bootstrap config and the noop are committed');
  const r = a.propose('x', net.now);
  assert.deepEqual(r, { ok: true, index: 3, term: 2 });
  net.flush();
  assert.deepEqual(net.node('a').commands, ['x']);
  assert.deepEqual(net.node('a').appliedMembership, voters('a'));
});

test('three nodes elect exactly one leader that the others follow', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const term = net.raft(leader).status().term;
  for (const id of ['a', 'b', 'c']) {
    const s = net.raft(id).status();
    assert.equal(s.term, term);
    assert.equal(s.leader, leader);
    assert.equal(s.role, id === leader ? 'leader' : 'follower');
  }
});

test('pre-vote keeps a partitioned node from disrupting a stable leader', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const term = net.raft(leader).status().term;
  const lonely = ['a', 'b', 'c'].find((id) => id !== leader) as string;
  net.isolate(lonely);
  net.run(net.config.electionTimeoutMinMs * 10);
  assert.equal(net.raft(lonely).status().term, term, 'failed pre-votes do not raise the term');
  assert.equal(net.raft(lonely).status().role, 'pre-candidate');
  net.heal();
  net.run(net.config.electionTimeoutMinMs * 3);
  assert.equal(net.leader(), leader);
  assert.equal(net.raft(leader).status().term, term);
  assert.equal(net.raft(lonely).status().leader, leader, 'the returning node follows the leader again');
});

test('check-quorum: a leader cut off from its voters steps down within an election timeout', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const old = net.electLeader();
  const term = net.raft(old).status().term;
  net.isolate(old);
  const cutAt = net.now;
  net.runUntil(() => net.raft(old).status().role !== 'leader');
  assert.ok(net.now - cutAt <= net.config.electionTimeoutMinMs + net.config.heartbeatIntervalMs);
  assert.equal(net.raft(old).status().leaderLeaseUntil, -Infinity);
  net.runUntil(() => net.leader() !== null && net.leader() !== old);
  assert.ok(net.raft(net.leader() as string).status().term > term);
});

test('a node restarted with a corrupt log neither votes nor campaigns', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const [x, y] = ['a', 'b', 'c'].filter((id) => id !== leader) as [string, string];
  net.crash(x);
  net.restart(x, { logCorrupt: true });
  assert.equal(net.raft(x).status().refusingVotes, true);
  net.crash(leader);
  const since = net.delivered.length;
  net.run(net.config.electionTimeoutMinMs * 20);
  assert.equal(net.leader(), null, 'the only other live voter cannot win without the corrupt node');
  assert.equal(net.raft(x).status().role, 'follower', 'the corrupt node never campaigns');
  const after = net.delivered.slice(since);
  assert.ok(after.some((m) => m.from === y && m.to === x && m.type === 'prevote'), 'the other voter asked');
  const answers = after.filter((m) => m.from === x && (m.type === 'vote-resp' || m.type === 'prevote-resp'));
  assert.ok(answers.length > 0);
  assert.ok(answers.every((m) => 'granted' in m && !m.granted), 'no (pre-)vote granted');
  assert.ok(!after.some((m) => m.from === x && (m.type === 'prevote' || m.type === 'vote')));
});
