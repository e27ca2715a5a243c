// The nemesis: faults on a schedule (random crashes, leader churn,
// partitions) and faults aimed at critical moments, which the world
// reports as they happen (a vote granted, a new leader, a leader's first
// commit, a lease renewal, an fsync started). All stop when the liveness
// phase begins.
import type { NodeId, RaftStatus } from '../../src/agent/consensus/types.js';
import type { SimNode } from './node.js';
import type { SimRng } from './rng.js';
import type { World } from './world.js';

/** What the faults remember of a node's current leadership. */
interface Leadership {
  term: number;
  /** Commit index when first seen leading, and whether it has advanced since. */
  fromCommit: number;
  committed: boolean;
  /** Lease end (local ms) last seen. */
  leaseSeen: number;
}

export class Faults {
  private readonly leading = new Map<NodeId, Leadership>();

  constructor(
    private readonly world: World,
    private readonly rng: SimRng,
  ) {}

  private get active(): boolean {
    return this.world.phase === 'safety';
  }

  start(): void {
    const p = this.world.params;
    this.world.schedule(this.rng.exp(p.partitionEveryMs), { type: 'partition' });
    this.world.schedule(this.rng.exp(p.crashEveryMs), { type: 'crash-fault' });
    this.world.schedule(this.rng.exp(p.leaderChurnEveryMs), { type: 'leader-churn' });
  }

  repartition(): void {
    const w = this.world;
    if (!this.active) return;
    w.trace('net', w.network.repartition(w.allIds(), w.leaderGuess()?.id ?? null));
    w.schedule(w.now + this.rng.exp(w.params.partitionEveryMs), { type: 'partition' });
  }

  /** Mostly one node, maybe the leader; sometimes several at once (a rack losing power). */
  randomCrash(): void {
    const w = this.world;
    if (!this.active) return;
    w.schedule(w.now + this.rng.exp(w.params.crashEveryMs), { type: 'crash-fault' });
    const up = w.upNodes();
    if (up.length === 0) return;
    const leader = w.leaderGuess();
    if (leader !== null && this.rng.chance(w.params.crashLeaderProb)) return w.crash(leader);
    const count = this.rng.chance(0.15) ? this.rng.int(1, up.length) : 1;
    for (const node of this.rng.shuffle(up).slice(0, count)) w.crash(node);
  }

  /** Kill the leader half the time, then restart crashed voters until a majority is up. */
  leaderChurn(): void {
    const w = this.world;
    if (!this.active) return;
    w.schedule(w.now + this.rng.exp(w.params.leaderChurnEveryMs), { type: 'leader-churn' });
    const leader = w.leaderGuess();
    if (leader !== null && this.rng.chance(0.5)) w.crash(leader);
    const voters = w.membership.committedMembership.members.filter((m) => m.role === 'voter').map((m) => m.id);
    const down = this.rng.shuffle(voters.map((id) => w.nodes.get(id)).filter((n): n is SimNode => n !== undefined && !n.up && !n.retired));
    let up = voters.length - down.length;
    while (up < Math.floor(voters.length / 2) + 1 && down.length > 0) {
      w.restart(down.pop() as SimNode);
      up++;
    }
  }

  /** A granted vote just left `voter`: maybe crash it before a pending fsync completes. */
  voteGranted(voter: NodeId): void {
    const node = this.world.nodes.get(voter);
    if (!this.active || node === undefined || !this.rng.chance(this.world.params.crashAfterVoteProb)) return;
    this.world.stats.crashesAfterVote++;
    this.world.schedule(this.world.now, { type: 'crash', node: node.id, life: node.life });
  }

  /** An fsync of `node` was issued, completing at `doneAt` (true ms). */
  syncIssued(node: SimNode, doneAt: number): void {
    if (!this.active || !this.rng.chance(this.world.params.crashDuringSyncProb)) return;
    this.world.stats.crashesDuringSync++;
    this.world.schedule(this.rng.float(this.world.now, doneAt), { type: 'crash', node: node.id, life: node.life });
  }

  /** `node` is leader (`newLeader`: first seen leading this term). */
  leaderObserved(node: SimNode, st: RaftStatus, newLeader: boolean): void {
    const p = this.world.params;
    if (!this.active) return;
    if (newLeader) {
      if (this.rng.chance(p.isolateLeaderProb)) this.isolate(node, 'on election');
      if (this.rng.chance(p.crashAfterElectionProb)) {
        this.world.stats.crashesAfterElection++;
        this.crashSoon(node);
      }
    }
    let l = this.leading.get(node.id);
    if (l?.term !== st.term) {
      l = { term: st.term, fromCommit: st.commitIndex, committed: false, leaseSeen: -Infinity };
      this.leading.set(node.id, l);
    }
    if (st.leaderLeaseUntil > l.leaseSeen) {
      l.leaseSeen = st.leaderLeaseUntil;
      if (this.rng.chance(p.isolateOnLeaseRenewProb)) this.isolate(node, 'right after a lease renewal');
    }
    if (!l.committed && st.commitIndex > l.fromCommit) {
      l.committed = true;
      if (this.rng.chance(p.crashAfterFirstCommitProb)) {
        this.world.stats.crashesAfterCommit++;
        this.crashSoon(node);
      } else if (this.rng.chance(p.isolateLeaderProb)) {
        this.isolate(node, 'after its first commit');
      }
    }
  }

  /** Cut `node` off from everyone; whoever was cut off before is back. */
  private isolate(node: SimNode, when: string): void {
    this.world.network.isolate(node.id, this.world.allIds());
    this.world.trace('net', `isolate leader ${node.id} ${when}`);
  }

  /** Crash `node` within about a round trip. */
  private crashSoon(node: SimNode): void {
    const at = this.world.now + this.rng.float(0, 2 * this.world.params.delayMaxMs);
    this.world.schedule(at, { type: 'crash', node: node.id, life: node.life });
  }
}
