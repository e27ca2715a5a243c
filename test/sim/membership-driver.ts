// Membership changes during the safety phase, proposed on the leader one at
// a time: add a fresh node as a learner (it starts empty, with a new
// incarnation and no bootstrap), promote a learner, remove a voter or a
// learner, now and then the leader itself. The cluster stays within 1..9
// members. A node whose removal commits is shut down a little later.
import type { Entry, Membership, MembershipChange, NodeId } from '../../src/agent/consensus/types.js';
import type { SimRng } from './rng.js';
import type { World } from './world.js';

const MAX_MEMBERS = 9;
/** Nodes ever created, so that a run does not grow without bound. */
const MAX_NODES = 16;
/** Longest delay (true ms) before a removed node is shut down. */
const RETIRE_MAX_MS = 1000;

export class MembershipDriver {
  /** The configuration of the highest committed config entry. */
  committedMembership: Membership = { members: [] };
  committedIndex = 0;

  constructor(
    private readonly rng: SimRng,
    private readonly world: World,
  ) {}

  attempt(): void {
    const w = this.world;
    const leader = w.leaderGuess();
    const raft = leader?.raft;
    if (leader == null || raft == null) return;
    const st = raft.status();
    const members = st.membership.members;
    const voters = members.filter((m) => m.role === 'voter');
    const learners = members.filter((m) => m.role === 'learner');
    const weights = {
      promote: learners.length > 0 ? 4 : 0,
      add: members.length < MAX_MEMBERS && w.nodes.size < MAX_NODES ? 2 : 0,
      remove: voters.length > 1 || learners.length > 0 ? 2 : 0,
    };
    if (weights.promote + weights.add + weights.remove === 0) return;
    const action = this.rng.weighted(weights);
    let change: MembershipChange;
    let added: NodeId | null = null;
    if (action === 'promote') {
      change = { type: 'promote', id: this.rng.pick(learners).id };
    } else if (action === 'add') {
      const node = w.createNode();
      w.stats.nodesAdded++;
      w.startNode(node);
      added = node.id;
      change = { type: 'add-learner', id: node.id, incarnation: node.incarnation, kind: 'node' };
    } else {
      const removable = voters.length > 1 ? members : learners;
      const target = this.rng.chance(w.params.removeLeaderProb) && voters.length > 1 ? leader.id : this.rng.pick(removable).id;
      change = { type: 'remove', id: target };
    }
    const res = raft.proposeMembership(change, w.localNow(leader));
    w.trace(leader.id, `propose ${change.type} ${change.id} -> ${res.ok ? `${res.index}/${res.term}` : `${res.code}`}`);
    if (res.ok) {
      w.stats.membershipProposals++;
      if (change.type === 'remove' && change.id === leader.id) w.stats.leaderRemovals++;
    } else if (added !== null) {
      w.schedule(w.now, { type: 'retire', node: added });
    }
    w.touched(leader);
  }

  /** A config entry was applied for the first time anywhere: it is committed. */
  committed(entry: Entry): void {
    const next = JSON.parse(entry.data) as Membership;
    if (entry.index > 1) this.world.stats.membershipChanges++;
    const staying = new Set(next.members.map((m) => m.id));
    for (const m of this.committedMembership.members) {
      if (!staying.has(m.id)) this.world.schedule(this.world.now + this.rng.float(0, RETIRE_MAX_MS), { type: 'retire', node: m.id });
    }
    this.committedMembership = next;
    this.committedIndex = entry.index;
  }
}
