// A small in-memory network for consensus tests: every message is delivered
// at once (unless a link is cut or a filter intervenes), every Ready is
// persisted at once, and time jumps from one wanted wake-up to the next.
// The state machine is the list of applied commands.

import { raftProfiles } from '../../src/agent/consensus/config.js';
import type { RaftConfig } from '../../src/agent/consensus/config.js';
import { RaftNode } from '../../src/agent/consensus/raft.js';
import type { PlantedBugs } from '../../src/agent/consensus/raft.js';
import type {
  Entry,
  HardState,
  Member,
  Membership,
  Message,
  MessageBody,
  NodeId,
  ReadFailure,
  ReadState,
  RestoredState,
  Rng,
  Snapshot,
} from '../../src/agent/consensus/types.js';

export const CLUSTER = 'test-cluster';

/** Deterministic Rng (mulberry32). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export function incarnationOf(id: NodeId): string {
  return `${id}-inc1`;
}

export function member(id: NodeId, role: Member['role'] = 'voter'): Member {
  return { id, incarnation: incarnationOf(id), kind: 'node', role };
}

export function voters(...ids: NodeId[]): Membership {
  return { members: ids.map((id) => member(id)) };
}

export function emptyRestored(): RestoredState {
  return { hardState: { term: 0, votedFor: null, commit: 0 }, snapshot: null, entries: [], logCorrupt: false };
}

/** What a node stored durably. */
export interface Stored {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export class TestNode {
  raft: RaftNode;
  stored: Stored = { hardState: { term: 0, votedFor: null, commit: 0 }, snapshot: null, entries: [] };
  down = false;
  commands: string[] = [];
  appliedIndex = 0;
  appliedTerm = 0;
  appliedMembership: Membership = { members: [] };
  readStates: ReadState[] = [];
  readFailures: ReadFailure[] = [];
  snapshotsInstalled = 0;

  constructor(raft: RaftNode) {
    this.raft = raft;
  }
}

export interface NetOptions {
  config?: RaftConfig;
  seed?: number;
}

export class TestNet {
  now = 0;
  readonly nodes = new Map<NodeId, TestNode>();
  /** Cut links, as "from>to". */
  readonly cut = new Set<string>();
  /** Every message delivered, in order. */
  readonly delivered: Message[] = [];
  /** Return null to drop a message, or a (possibly changed) message to deliver. */
  filter: ((m: Message) => Message | null) | null = null;
  /** Runs after a node's ready() and before its duties and advance(): the core must cope with input meanwhile. */
  whileWriting: ((id: NodeId) => void) | null = null;
  readonly config: RaftConfig;
  private readonly rng: Rng;
  private queue: Message[] = [];

  constructor(opts: NetOptions = {}) {
    this.config = opts.config ?? raftProfiles.fast;
    this.rng = seededRng(opts.seed ?? 1);
  }

  /** A cluster whose nodes all bootstrap with `ids` as voters. */
  static bootstrapped(ids: NodeId[], opts: NetOptions = {}): TestNet {
    const net = new TestNet(opts);
    for (const id of ids) net.add(id, { bootstrap: voters(...ids) });
    return net;
  }

  add(id: NodeId, opts: { bootstrap?: Membership; restored?: RestoredState; bugs?: PlantedBugs } = {}): TestNode {
    const restored = opts.restored ?? emptyRestored();
    const node = new TestNode(this.makeRaft(id, restored, opts.bootstrap, opts.bugs));
    node.stored = { hardState: { ...restored.hardState }, snapshot: restored.snapshot, entries: [...restored.entries] };
    if (restored.snapshot) this.restoreStateMachine(node, restored.snapshot);
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): RaftNode {
    return this.node(id).raft;
  }

  /** The leader of the highest term among live nodes, if any. */
  leader(): NodeId | null {
    let best: { id: NodeId; term: number } | null = null;
    for (const [id, n] of this.nodes) {
      const s = n.raft.status();
      if (!n.down && s.role === 'leader' && (!best || s.term > best.term)) best = { id, term: s.term };
    }
    return best?.id ?? null;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: NodeId): void {
    this.node(id).down = true;
  }

  /** Start `id` again from what it stored. */
  restart(id: NodeId, opts: { logCorrupt?: boolean; bugs?: PlantedBugs } = {}): void {
    const node = this.node(id);
    const s = node.stored;
    const restored: RestoredState = {
      hardState: { ...s.hardState },
      snapshot: s.snapshot,
      entries: [...s.entries],
      logCorrupt: opts.logCorrupt ?? false,
    };
    node.commands = [];
    node.appliedIndex = 0;
    node.appliedMembership = { members: [] };
    if (s.snapshot) this.restoreStateMachine(node, s.snapshot);
    node.raft = this.makeRaft(id, restored, undefined, opts.bugs);
    node.down = false;
  }

  /** Snapshot `id`'s applied state and compact its log there. */
  compact(id: NodeId): void {
    const n = this.node(id);
    const snapshot: Snapshot = {
      meta: { index: n.appliedIndex, term: n.appliedTerm, membership: n.appliedMembership },
      data: JSON.stringify(n.commands),
    };
    n.raft.compact(snapshot);
    n.stored.snapshot = snapshot;
    n.stored.entries = n.stored.entries.filter((e) => e.index > snapshot.meta.index);
  }

  /** Process every Ready and deliver every message until the cluster is quiet (bounded). */
  flush(): void {
    for (let round = 0; round < 10_000; round++) {
      let busy = false;
      for (const n of this.nodes.values()) {
        while (!n.down && n.raft.hasReady()) {
          busy = true;
          this.handleReady(n);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
      if (!busy && batch.length === 0) return;
    }
    throw new Error('flush did not settle');
  }

  /** Let `ms` of time pass, ticking each node when it asked to be woken. */
  run(ms: number): void {
    const end = this.now + ms;
    this.flush();
    for (let steps = 0; ; steps++) {
      if (steps > 100_000) throw new Error('run: too many wake-ups');
      const live = [...this.nodes.values()].filter((n) => !n.down);
      const next = Math.min(...live.map((n) => n.raft.nextWakeAt()));
      if (next > end) break;
      this.now = Math.max(this.now, next);
      for (const n of live) if (n.raft.nextWakeAt() <= this.now) n.raft.tick(this.now);
      this.flush();
    }
    this.now = end;
  }

  /** Run until `pred` holds, checking after every wake-up; fails after `maxMs`. */
  runUntil(pred: () => boolean, maxMs = 5_000): void {
    const end = this.now + maxMs;
    while (!pred()) {
      if (this.now >= end) throw new Error(`condition not reached within ${maxMs} ms`);
      this.run(5);
    }
  }

  /** Wait until some node leads and has committed everything in its log (its noop included). */
  electLeader(): NodeId {
    this.runUntil(() => {
      const l = this.leader();
      return l !== null && this.raft(l).status().commitIndex === this.raft(l).status().lastIndex;
    });
    return this.leader() as NodeId;
  }

  private makeRaft(id: NodeId, restored: RestoredState, bootstrap?: Membership, bugs?: PlantedBugs): RaftNode {
    return new RaftNode({
      id,
      clusterId: CLUSTER,
      incarnation: incarnationOf(id),
      config: this.config,
      rng: { next: () => this.rng.next() },
      now: this.now,
      restored,
      ...(bootstrap ? { bootstrap } : {}),
      ...(bugs ? { bugs } : {}),
    });
  }

  private handleReady(n: TestNode): void {
    const rd = n.raft.ready();
    this.whileWriting?.(n.raft.status().id);
    const s = n.stored;
    if (rd.snapshot) {
      s.snapshot = rd.snapshot;
      s.entries = [];
      this.restoreStateMachine(n, rd.snapshot);
      n.snapshotsInstalled++;
    }
    const first = rd.entries[0];
    if (first) s.entries = [...s.entries.filter((e) => e.index < first.index), ...rd.entries];
    if (rd.hardState) s.hardState = { ...rd.hardState };
    for (const m of [...rd.messagesNow, ...rd.messages]) this.queue.push(JSON.parse(JSON.stringify(m)) as Message);
    for (const e of rd.committed) {
      if (e.index !== n.appliedIndex + 1) throw new Error(`${n.raft.status().id} applies ${e.index} after ${n.appliedIndex}`);
      if (e.kind === 'command') n.commands.push(e.data);
      if (e.kind === 'config') n.appliedMembership = JSON.parse(e.data) as Membership;
      n.appliedIndex = e.index;
      n.appliedTerm = e.term;
    }
    n.readStates.push(...rd.readStates);
    n.readFailures.push(...rd.readFailures);
    n.raft.advance(rd);
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to || to.down || this.cut.has(`${m.from}>${m.to}`)) return;
    const msg = this.filter ? this.filter(m) : m;
    if (!msg) return;
    this.delivered.push(msg);
    to.raft.step(msg, this.now);
  }

  private restoreStateMachine(n: TestNode, snapshot: Snapshot): void {
    n.commands = JSON.parse(snapshot.data || '[]') as string[];
    n.appliedIndex = snapshot.meta.index;
    n.appliedTerm = snapshot.meta.term;
    n.appliedMembership = snapshot.meta.membership;
  }
}

/** Restored state of a node that has the config entry for `membership` at index 1, in `term`. */
export function restoredWith(membership: Membership, term = 1, extra: Entry[] = []): RestoredState {
  return {
    hardState: { term, votedFor: null, commit: 1 },
    snapshot: null,
    entries: [{ index: 1, term: 1, kind: 'config', data: JSON.stringify(membership) }, ...extra],
    logCorrupt: false,
  };
}

/** A lone node driven by hand (no network), for direct unit checks. */
export function loneNode(
  id: NodeId,
  opts: { restored: RestoredState; now?: number; bugs?: PlantedBugs; config?: RaftConfig },
): RaftNode {
  return new RaftNode({
    id,
    clusterId: CLUSTER,
    incarnation: incarnationOf(id),
    config: opts.config ?? raftProfiles.fast,
    rng: seededRng(7),
    now: opts.now ?? 0,
    restored: opts.restored,
    ...(opts.bugs ? { bugs: opts.bugs } : {}),
  });
}

/** A message as `from` would send it in `term`. */
export function message(from: NodeId, to: NodeId, term: number, body: MessageBody): Message {
  return { clusterId: CLUSTER, from, to, term, fromIncarnation: incarnationOf(from), ...body } as Message;
}

/** Drain a node's Ready (as if persisted and sent) and return every message it sent. */
export function drain(raft: RaftNode): Message[] {
  const out: Message[] = [];
  while (raft.hasReady()) {
    const rd = raft.ready();
    out.push(...rd.messagesNow, ...rd.messages);
    raft.advance(rd);
  }
  return out;
}
