// Simulated clients: each does one operation at a time on a small set of
// keys, writes through propose() and linearizable reads through readIndex(),
// and records invoke/complete in true time for the linearizability checker.
// - A write completes when the node that proposed it applies an entry with
//   the same index, term and data. If that node applies another entry at
//   the index, the write is known not to have happened. If the node crashes
//   or the client times out, the outcome is unknown (complete = Infinity).
// - A read completes when the node has applied up to the read index; it
//   returns the node's state-machine value then. A failed or timed-out read
//   has no effect and is left out of the history.
import type { Entry, NodeId, ReadFailure } from '../../src/agent/consensus/types.js';
import type { ClientOp } from './checkers/linearizable.js';
import type { Violation } from './checkers/violation.js';
import { encodePut } from './kv.js';
import type { SimNode } from './node.js';
import type { SimRng } from './rng.js';

export interface ClientWorld {
  readonly now: number;
  /** The up node that believes it leads in the highest term, if any. */
  leaderGuess(): SimNode | null;
  upNodes(): SimNode[];
  /** Up and not paused: a paused agent takes no requests. */
  available(node: SimNode): boolean;
  /** After calling into a node's core: take its Ready, observe it. */
  touched(node: SimNode): void;
  scheduleClient(at: number, client: string): void;
  scheduleTimeout(at: number, opId: number): void;
  trace(node: NodeId, text: string): void;
}

interface Pending {
  id: number;
  client: string;
  key: string;
  kind: 'write' | 'read';
  /** Value written; for reads filled in on completion. */
  value: string | null;
  data: string;
  invoke: number;
  node: NodeId;
  life: number;
  index: number;
  term: number;
}

export interface ClientStats {
  clientOps: number;
  writesAcked: number;
  readsServed: number;
  unknownOutcomes: number;
}

export class Clients {
  readonly history: ClientOp[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly writesAt = new Map<string, Pending>();
  private readonly readsById = new Map<string, Pending>();
  private nextOp = 1;
  private seq = 0;
  /** Issue no new operations (liveness phase). */
  stopped = false;

  constructor(
    private readonly rng: SimRng,
    private readonly world: ClientWorld,
    private readonly stats: ClientStats,
    private readonly keys: number,
    private readonly readFraction: number,
    private readonly thinkMs: number,
    private readonly pauseProb: number,
    private readonly timeoutMs: number,
  ) {}

  keyNames(): string[] {
    return Array.from({ length: this.keys }, (_, i) => `k${i + 1}`);
  }

  /** Client `client` starts its next operation. */
  issue(client: string): void {
    if (this.stopped) return;
    const guess = this.world.leaderGuess();
    const up = this.world.upNodes();
    const node = guess !== null && this.rng.chance(0.85) ? guess : up.length > 0 ? this.rng.pick(up) : null;
    const key = this.rng.pick(this.keyNames());
    if (node === null || !this.world.available(node)) {
      this.world.scheduleClient(this.world.now + this.think(), client);
      return;
    }
    if (this.rng.chance(this.readFraction)) this.read(client, node, key);
    else this.write(client, node, key);
  }

  /** A read of `key` through `node`'s read index, on behalf of `client`. Returns false if not started. */
  read(client: string, node: SimNode, key: string): boolean {
    const raft = node.raft;
    if (raft === null) return false;
    const op = this.newOp(client, 'read', key, null, '', node);
    const requestId = `r${op.id}`;
    this.readsById.set(requestId, op);
    this.world.trace(node.id, `client ${client} read ${key} (${requestId})`);
    raft.readIndex(requestId, node.clock.local(this.world.now));
    this.world.touched(node);
    return true;
  }

  private write(client: string, node: SimNode, key: string): void {
    const raft = node.raft;
    if (raft === null) return;
    const value = `${client}.${++this.seq}`;
    const data = encodePut({ key, value, client, seq: this.seq });
    const res = raft.propose(data, node.clock.local(this.world.now));
    this.world.trace(node.id, `client ${client} put ${key}=${value} -> ${res.ok ? `${res.index}/${res.term}` : res.code}`);
    if (res.ok) {
      const op = this.newOp(client, 'write', key, value, data, node);
      op.index = res.index;
      op.term = res.term;
      this.writesAt.set(`${node.id}:${res.index}`, op);
    } else {
      this.world.scheduleClient(this.world.now + this.think(), client);
    }
    this.world.touched(node);
  }

  private newOp(client: string, kind: 'write' | 'read', key: string, value: string | null, data: string, node: SimNode): Pending {
    const op: Pending = { id: this.nextOp++, client, key, kind, value, data, invoke: this.world.now, node: node.id, life: node.life, index: 0, term: 0 };
    this.pending.set(op.id, op);
    this.world.scheduleTimeout(this.world.now + this.timeoutMs, op.id);
    return op;
  }

  /** `node` applied `entry`: maybe a write of ours completed or is known to have failed. */
  applied(node: SimNode, entry: Entry): Violation | null {
    const key = `${node.id}:${entry.index}`;
    const op = this.writesAt.get(key);
    if (op === undefined || op.life !== node.life) return null;
    this.writesAt.delete(key);
    if (entry.term === op.term && entry.data !== op.data) {
      return { checker: 'log-matching', at: this.world.now, detail: `${node.id} applied ${entry.index}/${entry.term} with other data than it proposed there` };
    }
    if (entry.term === op.term) {
      this.history.push(this.finish(op, this.world.now));
      this.stats.writesAcked++;
    } else {
      this.finish(op, this.world.now);
    }
    return null;
  }

  readServed(node: SimNode, requestId: string): void {
    const op = this.readsById.get(requestId);
    if (op === undefined || op.node !== node.id || op.life !== node.life) return;
    op.value = node.sm.get(op.key);
    this.world.trace(node.id, `client ${op.client} read ${op.key} -> ${op.value ?? 'null'}`);
    this.history.push(this.finish(op, this.world.now));
    this.stats.readsServed++;
  }

  readFailed(node: SimNode, failure: ReadFailure): void {
    const op = this.readsById.get(failure.requestId);
    if (op === undefined || op.node !== node.id) return;
    this.finish(op, Infinity);
  }

  /** `node` crashed or retired: its writes in flight have unknown outcomes. */
  nodeDown(node: SimNode): void {
    for (const op of [...this.pending.values()]) {
      if (op.node === node.id) this.giveUp(op);
    }
  }

  timeout(opId: number): void {
    const op = this.pending.get(opId);
    if (op !== undefined) this.giveUp(op);
  }

  /** End of run: every write still in flight has an unknown outcome. */
  finishAll(): void {
    for (const op of [...this.pending.values()]) this.giveUp(op);
  }

  /** Completed reads of `key` by `client` (the final reads of the liveness phase). */
  completedReads(client: string, key: string): number {
    return this.history.filter((op) => op.client === client && op.key === key && op.kind === 'read').length;
  }

  pendingFor(client: string, key: string): boolean {
    for (const op of this.pending.values()) if (op.client === client && op.key === key) return true;
    return false;
  }

  private giveUp(op: Pending): void {
    const hist = this.finish(op, Infinity);
    if (op.kind === 'write') {
      this.history.push(hist);
      this.stats.unknownOutcomes++;
    }
  }

  private finish(op: Pending, complete: number): ClientOp {
    this.pending.delete(op.id);
    if (op.kind === 'write') this.writesAt.delete(`${op.node}:${op.index}`);
    else this.readsById.delete(`r${op.id}`);
    if (complete !== Infinity) this.stats.clientOps++;
    if (!this.stopped && op.client !== FINAL_CLIENT) this.world.scheduleClient(this.world.now + this.think(), op.client);
    return { client: op.client, key: op.key, kind: op.kind, value: op.value, invoke: op.invoke, complete };
  }

  private think(): number {
    return this.rng.chance(this.pauseProb) ? this.rng.float(500, 3000) : this.rng.exp(this.thinkMs);
  }
}

/** The client that does the liveness phase's final reads. */
export const FINAL_CLIENT = 'final';
