import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftProfiles } from '../../src/agent/consensus/config.js';
import type { PlantedBugs } from '../../src/agent/consensus/raft.js';
import type { Entry, Message } from '../../src/agent/consensus/types.js';
import { TestNet, restoredWith, voters } from './harness.js';

const abc = voters('a', 'b', 'c');
const cmds = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, kind: 'command' as const, data: `t${term}-${from + i}` }));
const appendsFrom = (msgs: Message[], from: string) => msgs.filter((m) => m.from === from && m.type === 'append');

test('proposals replicate, commit and apply in the same order everywhere; proposals between Readies batch', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const since = net.delivered.length;
  for (let i = 0; i < 100; i++) assert.equal(net.raft(leader).propose(`cmd-${i}`, net.now).ok, true);
  net.flush();
  const appends = appendsFrom(net.delivered.slice(since), leader).filter((m) => m.type === 'append' && m.entries.length > 0);
  assert.equal(appends.length, 2, 'one append per follower carries all 100 entries');
  const expected = Array.from({ length: 100 }, (_, i) => `cmd-${i}`);
  for (const id of ['a', 'b', 'c']) assert.deepEqual(net.node(id).commands, expected, id);
  assert.equal(net.raft(leader).status().commitIndex, net.raft(leader).status().lastIndex);
});

test('after an idle spell a new entry is sent once, not resent as if stalled', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  net.run(raftProfiles.fast.electionTimeoutMinMs * 3);
  const since = net.delivered.length;
  // The followers' acks take 3 heartbeat intervals (well under E_min) to arrive.
  const held: Message[] = [];
  net.filter = (m) => (m.type === 'append-resp' ? (held.push(m), null) : m);
  net.raft(leader).propose('x', net.now);
  net.run(raftProfiles.fast.heartbeatIntervalMs * 3);
  net.filter = null;
  for (const m of held) net.raft(m.to).step(m, net.now);
  net.run(raftProfiles.fast.electionTimeoutMinMs * 2);
  assert.equal(net.raft(leader).status().commitIndex, net.raft(leader).status().lastIndex);
  const carrying = appendsFrom(net.delivered.slice(since), leader).filter((m) => m.type === 'append' && m.entries.length > 0);
  assert.equal(carrying.length, 2);
});

test('appends are pipelined up to the inflight limit and batched up to the entry limit', () => {
  const config = { ...raftProfiles.fast, maxEntriesPerAppend: 2, maxInflightAppends: 3 };
  const net = TestNet.bootstrapped(['a', 'b', 'c'], { config });
  const leader = net.electLeader();
  for (let i = 0; i < 20; i++) net.raft(leader).propose(`cmd-${i}`, net.now);
  const rd = net.raft(leader).ready();
  const perFollower = new Map<string, number[]>();
  for (const m of rd.messages) {
    if (m.type === 'append') perFollower.set(m.to, [...(perFollower.get(m.to) ?? []), m.entries.length]);
  }
  assert.deepEqual([...perFollower.values()], [[2, 2, 2], [2, 2, 2]]);
  net.raft(leader).advance(rd);
  // The harness never saw that Ready: replay it as sent, then let the rest flow.
  for (const m of rd.messages) net.raft(m.to).step(m, net.now);
  net.run(config.heartbeatIntervalMs * 3);
  for (const id of ['a', 'b', 'c']) assert.equal(net.node(id).commands.length, 20, id);
});

test('a follower with a long conflicting log is repaired in one rejection (fast back-off)', () => {
  const net = new TestNet();
  net.add('a', { restored: restoredWith(abc, 3, cmds(2, 11, 3)) });
  net.add('b', { restored: restoredWith(abc, 3, cmds(2, 51, 2)) });
  net.add('c', { restored: restoredWith(abc, 3) });
  net.isolate('b'); // only a can win: c's log is behind a's
  assert.equal(net.electLeader(), 'a');
  const since = net.delivered.length;
  net.heal();
  net.runUntil(() => net.raft('b').status().lastIndex === net.raft('a').status().lastIndex);
  net.run(raftProfiles.fast.heartbeatIntervalMs * 2);
  const rejections = net.delivered.slice(since).filter((m) => m.from === 'b' && m.type === 'append-resp' && !m.success);
  assert.equal(rejections.length, 1);
  assert.equal(net.raft('b').status().lastTerm, net.raft('a').status().lastTerm);
  assert.deepEqual(net.node('b').commands, net.node('a').commands);
  assert.equal(net.node('b').commands.length, 10);
});

// Raft paper, Figure 8: a leader must not commit an entry of an older term by
// counting replicas, because a later leader may still overwrite it.
for (const bugs of [undefined, { commitOldTermEntries: true }] as (PlantedBugs | undefined)[]) {
  test(`an old-term entry on a quorum is ${bugs ? 'committed with the planted bug' : 'not committed by counting replicas'}`, () => {
    const net = new TestNet();
    net.add('a', { restored: restoredWith(abc, 3, cmds(2, 2, 2)), ...(bugs ? { bugs } : {}) });
    net.add('b', { restored: restoredWith(abc, 3) });
    net.add('c', { restored: restoredWith(abc, 3) });
    net.isolate('c');
    // b receives the term-2 entry but never the new leader's noop.
    net.filter = (m) => (m.type === 'append' ? { ...m, entries: m.entries.filter((e) => e.index <= 2) } : m);
    net.runUntil(() => net.leader() === 'a' && net.raft('a').status().progress['b']?.match === 2);
    net.run(raftProfiles.fast.electionTimeoutMinMs);
    assert.equal(net.raft('a').status().role, 'leader');
    assert.equal(net.raft('a').status().term, 4);
    assert.equal(net.raft('a').status().commitIndex, bugs ? 2 : 1);
  });
}

test('a follower behind the leader\'s snapshot receives it, installs it and catches up', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const lagging = ['a', 'b', 'c'].find((id) => id !== leader) as string;
  net.crash(lagging);
  for (let i = 0; i < 20; i++) net.raft(leader).propose(`cmd-${i}`, net.now);
  net.flush();
  net.compact(leader);
  const snapIndex = net.raft(leader).status().snapshotIndex;
  assert.ok(snapIndex >= 22);
  // The first snapshot is lost: the leader retries after an election timeout.
  let lost = 0;
  net.filter = (m) => (m.type === 'snapshot' && lost++ === 0 ? null : m);
  net.restart(lagging);
  net.runUntil(() => net.raft(leader).status().progress[lagging]?.snapshotPending === true);
  net.runUntil(() => net.node(lagging).snapshotsInstalled === 1, raftProfiles.fast.electionTimeoutMinMs * 3);
  assert.equal(lost, 2);
  assert.equal(net.raft(lagging).status().snapshotIndex, snapIndex);
  net.raft(leader).propose('after', net.now);
  net.run(raftProfiles.fast.heartbeatIntervalMs * 2);
  assert.deepEqual(net.node(lagging).commands, net.node(leader).commands);
  assert.equal(net.node(lagging).commands.at(-1), 'after');
  assert.equal(net.raft(leader).status().progress[lagging]?.snapshotPending, false);
});

test('a restarted follower keeps its log and catches up', () => {
  const net = TestNet.bootstrapped(['a', 'b', 'c']);
  const leader = net.electLeader();
  const f = ['a', 'b', 'c'].find((id) => id !== leader) as string;
  net.raft(leader).propose('one', net.now);
  net.flush();
  net.crash(f);
  net.raft(leader).propose('two', net.now);
  net.flush();
  net.restart(f);
  assert.equal(net.raft(f).status().lastIndex, 3);
  // The append it missed is resent once its progress stalled for E_min.
  net.run(raftProfiles.fast.electionTimeoutMinMs + 2 * raftProfiles.fast.heartbeatIntervalMs);
  assert.deepEqual(net.node(f).commands, ['one', 'two']);
});
