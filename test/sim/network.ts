// The simulated network: per-message random delay (hence reordering), loss,
// duplication, and directed link cuts that model symmetric and one-way
// partitions. A cut drops messages both when sent and when due for
// delivery (packets in flight die with the link). Messages are cloned on
// send so that no node shares an object with another. Consensus messages
// and the agents' own (leases, reports, orders) share the links.
import type { NodeId } from '../../src/agent/consensus/types.js';
import type { WorldParams } from './params.js';
import type { SimRng } from './rng.js';

export interface NetworkStats {
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  partitions: number;
}

/** Anything sent from one node to another. */
export interface Addressed {
  from: NodeId;
  to: NodeId;
}

export type PartitionShape = 'split' | 'isolate' | 'bridge' | 'one-way' | 'links' | 'heal';

export class SimNetwork {
  /** Directed cuts, as "from>to". */
  private readonly cut = new Set<string>();
  lossProb: number;
  dupProb: number;
  spikeProb: number;

  constructor(
    private readonly rng: SimRng,
    private readonly params: WorldParams,
    private readonly stats: NetworkStats,
  ) {
    this.lossProb = params.lossProb;
    this.dupProb = params.dupProb;
    this.spikeProb = params.delaySpikeProb;
  }

  blocked(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /** Delivery delays (ms) for one message: none if lost, two if duplicated. */
  send<M extends Addressed>(msg: M): { copy: M; delay: number }[] {
    this.stats.messagesSent++;
    if (this.blocked(msg.from, msg.to) || this.rng.chance(this.lossProb)) {
      this.stats.messagesDropped++;
      return [];
    }
    const copies = this.rng.chance(this.dupProb) ? 2 : 1;
    if (copies === 2) this.stats.messagesDuplicated++;
    const out: { copy: M; delay: number }[] = [];
    for (let i = 0; i < copies; i++) out.push({ copy: structuredClone(msg), delay: this.delay() });
    return out;
  }

  /** Called when a message is due: it dies if the link is cut now. */
  deliverable(msg: Addressed): boolean {
    if (!this.blocked(msg.from, msg.to)) return true;
    this.stats.messagesDropped++;
    return false;
  }

  private delay(): number {
    const p = this.params;
    let d = this.rng.float(p.delayMinMs, p.delayMaxMs);
    if (this.rng.chance(this.spikeProb)) d += this.rng.float(0, p.delaySpikeMs);
    return d;
  }

  /**
   * Replaces the cuts with a new random shape over `nodes`; returns what it
   * did. Shapes that single out a node pick the leader half the time.
   */
  repartition(nodes: readonly NodeId[], leader: NodeId | null): string {
    this.cut.clear();
    const shape = this.rng.weighted<PartitionShape>({ split: 3, isolate: 2, bridge: 3, 'one-way': 2, links: 2, heal: 3 });
    if (shape !== 'heal') this.stats.partitions++;
    const ids = this.rng.shuffle([...nodes]);
    if (leader !== null && ids.includes(leader) && this.rng.chance(0.5)) {
      ids.splice(ids.indexOf(leader), 1);
      ids.unshift(leader);
    }
    switch (shape) {
      case 'heal':
        return 'heal';
      case 'split': {
        const groups = this.rng.int(2, Math.min(3, Math.max(2, ids.length)));
        const groupOf = new Map(ids.map((id, i) => [id, i < groups ? i : this.rng.int(0, groups - 1)]));
        for (const a of ids) for (const b of ids) if (groupOf.get(a) !== groupOf.get(b)) this.cut.add(`${a}>${b}`);
        return `split ${[...Array(groups).keys()].map((g) => ids.filter((id) => groupOf.get(id) === g).join(',')).join(' | ')}`;
      }
      case 'isolate': {
        const lone = ids[0] as NodeId;
        for (const b of ids) if (b !== lone) this.cutBoth(lone, b);
        return `isolate ${lone}`;
      }
      case 'bridge': {
        // Two nodes cannot talk, but both reach everyone else: the leader's
        // peer times out while the others still hear the leader.
        const [a, b] = ids;
        if (a === undefined || b === undefined) return 'bridge none';
        this.cutBoth(a, b);
        return `bridge ${a} x ${b}`;
      }
      case 'one-way': {
        // One node hears nobody, or nobody hears it: a disruptive candidate in the making.
        const lone = ids[0] as NodeId;
        const deaf = this.rng.chance(0.5);
        for (const b of ids) if (b !== lone) this.cut.add(deaf ? `${b}>${lone}` : `${lone}>${b}`);
        return `one-way ${deaf ? `* -> ${lone}` : `${lone} -> *`}`;
      }
      case 'links': {
        const cuts: string[] = [];
        const n = this.rng.int(1, Math.max(1, ids.length));
        for (let i = 0; i < n; i++) {
          const a = this.rng.pick(ids);
          const b = this.rng.pick(ids);
          if (a === b) continue;
          if (this.rng.chance(0.5)) {
            this.cutBoth(a, b);
            cuts.push(`${a}-${b}`);
          } else {
            this.cut.add(`${a}>${b}`);
            cuts.push(`${a}>${b}`);
          }
        }
        return `links ${cuts.join(' ') || 'none'}`;
      }
    }
  }

  /** Cuts `lone` off from everyone (a targeted partition). */
  isolate(lone: NodeId, nodes: readonly NodeId[]): void {
    this.cut.clear();
    this.stats.partitions++;
    for (const b of nodes) if (b !== lone) this.cutBoth(lone, b);
  }

  /** Nobody hears `lone` any more, while it still hears everyone (a targeted one-way partition). */
  mute(lone: NodeId, nodes: readonly NodeId[]): void {
    this.cut.clear();
    this.stats.partitions++;
    for (const b of nodes) if (b !== lone) this.cut.add(`${lone}>${b}`);
  }

  /** Liveness phase: the healed set talks freely; everyone else is cut off from it. */
  healFor(healed: ReadonlySet<NodeId>, all: readonly NodeId[]): void {
    this.cut.clear();
    this.lossProb = 0;
    this.dupProb = 0;
    this.spikeProb = 0;
    for (const a of all) for (const b of all) if (a !== b && (!healed.has(a) || !healed.has(b))) this.cut.add(`${a}>${b}`);
  }

  private cutBoth(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }
}
