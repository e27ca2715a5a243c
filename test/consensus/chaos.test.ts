// A small randomized run per seed: message loss, delay, reordering and
// duplication, crashes and restarts, partitions, proposals, membership
// changes, transfers, compaction and reads, with Raft's safety properties
// checked after every step. The deterministic simulator (test/sim) goes much
// further; this is the core's own smoke alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftProfiles } from '../../src/agent/consensus/config.js';
import type { Message, NodeId } from '../../src/agent/consensus/types.js';
import { TestNet, incarnationOf, seededRng } from './harness.js';

const IDS = ['a', 'b', 'c', 'd', 'e'];
const E = raftProfiles.fast.electionTimeoutMinMs;

/** Runs one seed; returns every node's final status, for the determinism check. */
function chaosRun(seed: number): string {
  const rng = seededRng(seed);
  const chance = (p: number) => rng.next() < p;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng.next() * xs.length)] as T;
  // Swarm testing: the seed also picks the fault mix.
  const mix = {
    loss: pick([0, 0.02, 0.1, 0.3]),
    proposals: pick([0.01, 0.1, 0.5]),
    crashes: pick([0, 0.01, 0.03]),
    partitions: pick([0, 0.02, 0.05]),
  };
  const net = TestNet.bootstrapped(IDS.slice(0, 3), { seed });
  for (const id of IDS.slice(3)) net.add(id);
  // Messages in flight, delivered late, out of order, twice, or never.
  let inFlight: { at: number; m: Message }[] = [];
  net.filter = (m) => {
    if (chance(mix.loss)) return null;
    inFlight.push({ at: net.now + 1 + Math.floor(rng.next() * 15), m });
    if (chance(0.05)) inFlight.push({ at: net.now + Math.floor(rng.next() * 30), m });
    return null;
  };
  // Some in-flight messages arrive while a node is writing its Ready.
  net.whileWriting = (id) => {
    if (!chance(0.3)) return;
    const mine = inFlight.filter((x) => x.m.to === id);
    inFlight = inFlight.filter((x) => x.m.to !== id);
    for (const { m } of mine) net.raft(id).step(m, net.now);
  };
  const leaders = new Map<number, NodeId>();
  const committed: string[] = [];

  const check = () => {
    const statuses = [...net.nodes.values()].filter((n) => !n.down).map((n) => n.raft.status());
    for (const s of statuses) {
      if (s.role !== 'leader') continue;
      const other = leaders.get(s.term);
      assert.ok(other === undefined || other === s.id, `seed ${seed}: two leaders in term ${s.term}: ${other}, ${s.id}`);
      leaders.set(s.term, s.id);
      // All clocks are one here: while a lease holds, no newer leader exists.
      if (s.leaderLeaseUntil > net.now) {
        const newer = statuses.find((o) => o.role === 'leader' && o.term > s.term);
        assert.equal(newer, undefined, `seed ${seed}: ${newer?.id} leads term ${newer?.term} during ${s.id}'s lease`);
      }
    }
  };
  // Every node's applied commands are a prefix of one history.
  const recordApplied = () => {
    for (const [id, n] of net.nodes) {
      n.commands.forEach((c, i) => {
        if (i < committed.length) assert.equal(c, committed[i], `seed ${seed}: ${id} applied ${c} where ${committed[i]} was`);
        else committed.push(c);
      });
    }
  };

  let proposals = 0;
  const readsAsked = new Map<string, number>(); // request id -> highest commit index anywhere when asked
  for (let step = 0; step < 600; step++) {
    net.run(5);
    const due = inFlight.filter((x) => x.at <= net.now);
    inFlight = inFlight.filter((x) => x.at > net.now);
    for (const { m } of due) {
      const to = net.nodes.get(m.to);
      if (to && !to.down && !net.cut.has(`${m.from}>${m.to}`)) to.raft.step(m, net.now);
    }
    check();
    recordApplied();
    const live = IDS.filter((id) => !net.node(id).down);
    // Clients reach any node that believes it leads, deposed ones included.
    const believers = live.filter((id) => net.raft(id).status().role === 'leader');
    const leader = believers.length > 0 ? pick(believers) : null;
    if (chance(mix.proposals) && leader) net.raft(leader).propose(`p${proposals++}`, net.now);
    if (chance(mix.crashes) && live.length > 2) net.crash(pick(live));
    if (chance(0.03)) {
      const dead = IDS.filter((id) => net.node(id).down);
      if (dead.length > 0) net.restart(pick(dead));
    }
    if (chance(mix.partitions / 2)) net.isolate(pick(IDS));
    if (chance(mix.partitions)) {
      const [x, y] = [pick(IDS), pick(IDS)];
      net.cut.add(`${x}>${y}`);
      if (chance(0.5)) net.cut.add(`${y}>${x}`);
    }
    if (chance(0.03)) net.heal();
    if (chance(0.02) && leader) {
      const members = net.raft(leader).status().membership.members;
      const outsider = IDS.find((id) => !members.some((m) => m.id === id));
      const learner = members.find((m) => m.role === 'learner');
      const voterIds = members.filter((m) => m.role === 'voter').map((m) => m.id);
      const change =
        learner && chance(0.7)
          ? { type: 'promote' as const, id: learner.id }
          : outsider && chance(0.6)
            ? { type: 'add-learner' as const, id: outsider, incarnation: incarnationOf(outsider), kind: 'node' as const }
            : voterIds.length > 3
              ? { type: 'remove' as const, id: pick(voterIds) }
              : null;
      if (change) net.raft(leader).proposeMembership(change, net.now);
    }
    if (chance(0.01) && leader) net.raft(leader).transferLeadership(pick(IDS), net.now);
    if (chance(0.02) && live.length > 0) {
      const id = pick(live);
      if (net.node(id).appliedIndex > net.raft(id).status().snapshotIndex) net.compact(id);
    }
    if (chance(0.05) && leader) {
      readsAsked.set(`r${step}`, Math.max(...[...net.nodes.values()].map((n) => n.raft.status().commitIndex)));
      net.raft(leader).readIndex(`r${step}`, net.now);
    }
  }
  // Linearizable reads: a read sees everything committed before it was asked.
  for (const n of net.nodes.values()) {
    for (const r of n.readStates) {
      const floor = readsAsked.get(r.requestId) ?? Infinity;
      assert.ok(r.index >= floor, `seed ${seed}: read ${r.requestId} at ${r.index}, but ${floor} was committed before`);
    }
  }
  // Liveness: heal everything, restart everyone, and the cluster converges.
  net.heal();
  for (const id of IDS) if (net.node(id).down) net.restart(id);
  net.filter = null;
  net.whileWriting = null;
  inFlight = [];
  // A stale leader may still accept a proposal right after healing and lose
  // it: propose again under each new leadership until every member has it.
  let proposedIn = '';
  net.runUntil(() => {
    const l = net.leader();
    if (l === null) return false;
    const s = net.raft(l).status();
    if (proposedIn !== `${l}@${s.term}` && net.raft(l).propose('final', net.now).ok) proposedIn = `${l}@${s.term}`;
    return s.membership.members.every((m) => net.node(m.id).commands.includes('final'));
  }, E * 80);
  check();
  recordApplied();
  return JSON.stringify([...net.nodes.values()].map((n) => n.raft.status()));
}

for (const seed of Array.from({ length: 40 }, (_, i) => i + 1)) {
  test(`chaos seed ${seed}: one leader per term, applied histories agree, converges after healing`, () => {
    chaosRun(seed);
  });
}

test('the same seed replays the same run', () => {
  assert.equal(chaosRun(11), chaosRun(11));
  assert.notEqual(chaosRun(11), chaosRun(12));
});
