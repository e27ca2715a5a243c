import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftProfiles } from '../../src/agent/consensus/config.js';
import type { Membership } from '../../src/agent/consensus/types.js';
import { TestNet, incarnationOf, member } from './harness.js';

const E = raftProfiles.fast.electionTimeoutMinMs;
const addLearner = (id: string) => ({ type: 'add-learner' as const, id, incarnation: incarnationOf(id), kind: 'node' as const });
const roles = (net: TestNet) => Object.fromEntries(net.raft(net.leader() as string).status().membership.members.map((m) => [m.id, m.role]));

test('add a learner, promote it once caught up, and it votes', () => {
  const config = { ...raftProfiles.fast, maxEntriesPerAppend: 4 };
  const net = TestNet.bootstrapped(['a', 'b', 'c'], { config });
  const leader = net.electLeader();
  const l = () => net.raft(leader);
  l().propose('before', net.now);
  net.add('d'); // a fresh node with an empty log that knows no one yet
  assert.equal(l().proposeMembership(addLearner('d'), net.now).ok, true);
  net.flush();
  assert.equal(net.raft('d').status().role, 'learner');
  assert.deepEqual(net.node('d').commands, ['before']);
  assert.deepEqual(roles(net), { a: 'voter', b: 'voter', c: 'voter', d: 'learner' });

  // A learner never campaigns.
  net.isolate('d');
  net.run(E * 5);
  assert.equal(net.raft('d').status().role, 'learner');
  assert.equal(net.raft('d').status().term, l().status().term);

  // Promotion is refused while the learner is more than maxEntriesPerAppend behind.
  for (let i = 0; i < 10; i++) l().propose(`x${i}`, net.now);
  net.flush();
  const early = l().proposeMembership({ type: 'promote', id: 'd' }, net.now);
  assert.equal(early.ok, false);
  assert.equal(!early.ok && early.code, 'E_INVALID_MEMBERSHIP');
  net.heal();
  net.runUntil(() => l().status().progress['d']?.match === l().status().lastIndex);
  assert.equal(l().proposeMembership({ type: 'promote', id: 'd' }, net.now).ok, true);
  net.flush();
  assert.equal(net.raft('d').status().role, 'follower');
  assert.deepEqual(roles(net), { a: 'voter', b: 'voter', c: 'voter', d: 'voter' });

  // With four voters a quorum is three: after the leader crashes, the other
  // two old voters can only win with d's vote.
  net.crash(leader);
  const since = net.delivered.length;
  net.runUntil(() => net.leader() !== null);
  const winner = net.leader() as string;
  const dVoted = winner === 'd' || net.delivered.slice(since).some((m) => m.from === 'd' && m.to === winner && m.type === 'vote-resp' && m.granted);
  assert.ok(dVoted, 'd voted for the new leader (or is it)');
});

test('one membership change at a time, and only after the leader committed in its term', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const l = net.raft(leader);
  net.add('d');
  net.add('e');
  assert.equal(l.proposeMembership(addLearner('d'), net.now).ok, true);
  const second = l.proposeMembership(addLearner('e'), net.now);
  assert.equal(!second.ok && second.code, 'E_MEMBERSHIP_PENDING');
  net.flush();
  assert.equal(l.proposeMembership(addLearner('e'), net.now).ok, true);
  net.flush();
  const invalid = [
    l.proposeMembership(addLearner('e'), net.now),
    l.proposeMembership({ type: 'promote', id: 'a' }, net.now),
    l.proposeMembership({ type: 'remove', id: 'zz' }, net.now),
    l.proposeMembership({ type: 'add-learner', id: 'w', incarnation: 'w1', kind: 'metadata-witness' }, net.now),
  ];
  for (const r of invalid) assert.equal(!r.ok && r.code, 'E_INVALID_MEMBERSHIP');
  const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
  const notLeader = net.raft(follower).proposeMembership(addLearner('f'), net.now);
  assert.deepEqual(notLeader, { ok: false, code: 'E_NOT_LEADER', leader });
});

test('a new leader refuses membership changes until it committed an entry of its term', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  net.filter = (m) => (m.type === 'append-resp' ? null : m); // the noop cannot commit
  net.runUntil(() => net.leader() !== null);
  const l = net.raft(net.leader() as string);
  const r = l.proposeMembership({ type: 'remove', id: 'c' }, net.now);
  assert.equal(!r.ok && r.code, 'E_MEMBERSHIP_PENDING');
  net.filter = null;
  net.runUntil(() => l.status().commitIndex === l.status().lastIndex);
  assert.equal(l.proposeMembership({ type: 'remove', id: 'c' }, net.now).ok, true);
});

test('remove a follower: the rest go on, the removed node cannot disturb them', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const gone = ['a', 'b', 'c'].find((id) => id !== leader) as string;
  const stay = ['a', 'b', 'c'].filter((id) => id !== gone);
  assert.equal(net.raft(leader).proposeMembership({ type: 'remove', id: gone }, net.now).ok, true);
  net.flush();
  const term = net.raft(leader).status().term;
  net.run(E * 10);
  assert.equal(net.leader(), leader);
  assert.equal(net.raft(leader).status().term, term, 'the removed node\'s campaigns change nothing');
  const granted = net.delivered.filter((m) => m.to === gone && (m.type === 'prevote-resp' || m.type === 'vote-resp') && m.granted);
  assert.deepEqual(granted, [], 'its pre-votes are refused');
  net.raft(leader).propose('x', net.now);
  net.flush();
  for (const id of stay) assert.deepEqual(net.node(id).commands, ['x']);
  assert.deepEqual(net.node(gone).commands, []);
});

test('remove the leader: it steps down once the removal commits and never campaigns again', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const old = net.electLeader();
  const term = net.raft(old).status().term;
  assert.equal(net.raft(old).proposeMembership({ type: 'remove', id: old }, net.now).ok, true);
  net.flush();
  const s = net.raft(old).status();
  assert.equal(s.role, 'follower');
  assert.equal(s.commitIndex, s.membershipIndex, 'stepped down when its removal committed');
  net.runUntil(() => net.leader() !== null);
  const next = net.leader() as string;
  assert.notEqual(next, old);
  assert.ok(net.raft(next).status().term > term);
  const oldTerm = net.raft(old).status().term;
  net.run(E * 10);
  assert.equal(net.raft(old).status().term, oldTerm, 'the removed leader never campaigns');
  assert.equal(net.raft(old).status().role, 'follower');
  net.raft(next).propose('y', net.now);
  net.flush();
  assert.deepEqual(net.node(next).commands, ['y']);
});

test('a metadata witness counts in the quorum size but is sent nothing and never acks (no witness yet)', () => {
  const shape: Membership = { members: [member('a'), member('b'), { id: 'w', incarnation: 'w1', kind: 'metadata-witness', role: 'voter' }] };
  const net = new TestNet();
  net.add('a', { bootstrap: shape });
  net.add('b', { bootstrap: shape });
  const leader = net.electLeader();
  net.raft(leader).propose('x', net.now);
  net.flush();
  assert.deepEqual(net.node('a').commands, ['x']);
  assert.ok(!net.delivered.some((m) => m.to === 'w'), 'nothing is sent to the witness');
  assert.deepEqual(Object.keys(net.raft(leader).status().progress), [leader === 'a' ? 'b' : 'a']);
  // Two of three voters are needed, and the witness never answers.
  net.crash(leader === 'a' ? 'b' : 'a');
  const before = net.raft(leader).status().commitIndex;
  net.raft(leader).propose('y', net.now);
  net.run(E / 2);
  assert.equal(net.raft(leader).status().commitIndex, before);
});

test('two nodes: a leader whose self-removal is appended but not committed still campaigns, so the cluster recovers', () => {
  const net = TestNet.bootstrapped(['a', 'b']);
  const old = net.electLeader();
  const other = old === 'a' ? 'b' : 'a';
  net.cut.add(`${old}>${other}`);
  assert.equal(net.raft(old).proposeMembership({ type: 'remove', id: old }, net.now).ok, true);
  net.flush();
  // Both restart; only the old leader holds its removal, and its log is the longer one.
  net.crash(old);
  net.crash(other);
  net.restart(old);
  net.restart(other);
  net.heal();
  net.runUntil(() => {
    const s = net.raft(other).status();
    return s.role === 'leader' && s.membership.members.length === 1 && s.commitIndex >= s.membershipIndex;
  }, E * 40);
  assert.equal(net.raft(old).status().role, 'follower');
});
