// The shell around the pure consensus core: real monotonic time, the real
// durable store, a transport, and the cluster database as state machine.
// It decides nothing. It carries out the Ready duties written on
// `Ready` (types.ts) in order, one Ready at a time; proposals that arrive
// while a Ready is being persisted batch into the next one (group commit).
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RaftNode } from '../consensus/raft.js';
import type { RaftConfig } from '../consensus/config.js';
import type {
  Entry, Membership, MembershipChange, Message, NodeId, ProposeResult, RaftStatus, Ready, RestoredState, Rng, Snapshot,
} from '../consensus/types.js';
import type { LogStore } from '../store/log-store.js';
import type { Steps } from '../db/snapshot.js';
import { allSteps } from '../db/snapshot.js';
import type { Transport } from '../transport/transport.js';
import { parsePeerMessage } from './message-guard.js';

/** What the runtime applies committed commands to. */
export interface ReplicatedStateMachine {
  /** Applies a committed command; returns what the proposer is told. Must be deterministic. */
  apply(index: number, term: number, data: string): unknown;
  /** The state as of now, written in steps: what is applied meanwhile does not show in it. */
  snapshot(): Steps<string>;
  /** Read in steps; the state is replaced only by the last step. A step throws on a bad snapshot. */
  restore(data: string): Steps<void>;
}

/**
 * Snapshot work (tens of MB take most of a second) runs in slices of at
 * most this long, the event loop free between them: heartbeats, lease
 * renewals and API calls wait for one slice at most.
 */
const SLICE_MS = 4;
/** Characters of snapshot per step: small enough that a step is well under a slice. */
const STEP_CHARS = 32 * 1024;

async function inSlices<T>(work: Steps<T>): Promise<T> {
  for (;;) {
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      if (work.step(STEP_CHARS)) return work.result();
    } while (performance.now() < sliceEnd);
    await yieldToEventLoop();
  }
}

export interface ConsensusRuntimeOptions {
  id: NodeId;
  clusterId: string;
  incarnation: string;
  config: RaftConfig;
  store: LogStore;
  restored: RestoredState;
  transport: Transport;
  stateMachine: ReplicatedStateMachine;
  bootstrap?: Membership;
  /** Compact the log into a snapshot after this many applied entries (default 10,000). */
  snapshotEveryEntries?: number;
  /** Source of randomness for election timeouts; defaults to Math.random (the shell's, not the core's). */
  rng?: Rng;
  /** Called when the runtime hits an error it cannot continue from (a failed fsync). */
  onFatal?: (err: Error) => void;
}

export class RuntimeError extends Error {
  constructor(readonly code: string, message: string, readonly leader: NodeId | null = null) {
    super(message);
  }
}

interface PendingProposal {
  term: number;
  resolve: (result: unknown) => void;
  reject: (err: RuntimeError) => void;
}

interface PendingRead {
  resolve: (index: number) => void;
  reject: (err: RuntimeError) => void;
  index: number | null;
}

const monotonicNow = (): number => performance.now();

const stoppedError = (): RuntimeError => new RuntimeError('E_STOPPED', 'the consensus runtime stopped');

export class ConsensusRuntime {
  readonly node: RaftNode;
  private readonly store: LogStore;
  private readonly transport: Transport;
  private readonly stateMachine: ReplicatedStateMachine;
  private readonly snapshotEvery: number;
  private readonly onFatal: (err: Error) => void;
  private readonly pendingProposals = new Map<number, PendingProposal>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private appliedIndex: number;
  private appliedTerm: number;
  private appliedMembership: Membership;
  private lastSnapshotIndex: number;
  private processing = false;
  /** A snapshot is being written for compaction. */
  private snapshotting = false;
  /** The Ready being carried out, if any: `stop` lets it finish (its snapshot read, its writes done) before the store closes. */
  private inFlight: Promise<void> = Promise.resolve();
  private processScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;
  /** Messages refused before reaching the core: malformed, or `from` not the authenticated peer. */
  droppedMessages = 0;

  constructor(opts: ConsensusRuntimeOptions) {
    this.store = opts.store;
    this.transport = opts.transport;
    this.stateMachine = opts.stateMachine;
    this.snapshotEvery = opts.snapshotEveryEntries ?? 10_000;
    this.onFatal = opts.onFatal ?? ((err) => { throw err; });
    const snapshot = opts.restored.snapshot;
    // At start nothing else waits on the event loop: the stored snapshot is read in one go.
    if (snapshot) allSteps(this.stateMachine.restore(snapshot.data));
    this.appliedIndex = snapshot?.meta.index ?? 0;
    this.appliedTerm = snapshot?.meta.term ?? 0;
    this.appliedMembership = snapshot?.meta.membership ?? opts.bootstrap ?? { members: [] };
    this.lastSnapshotIndex = this.appliedIndex;
    this.node = new RaftNode({
      id: opts.id,
      clusterId: opts.clusterId,
      incarnation: opts.incarnation,
      config: opts.config,
      rng: opts.rng ?? { next: Math.random },
      now: monotonicNow(),
      restored: opts.restored,
      ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
    });
    // A message must come from the peer its connection authenticated as, and have a sound shape.
    this.transport.onMessage((raw, from) => {
      const msg = parsePeerMessage(raw);
      if (msg && msg.from === from) this.receive(msg);
      else this.droppedMessages++;
    });
    this.schedule();
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /**
   * Proposes a command and resolves with the state machine's apply result
   * once the entry is committed and applied here. Rejects with
   * E_NOT_LEADER (with the leader's id when known) or E_LEADERSHIP_LOST.
   */
  propose(data: string): Promise<unknown> {
    if (this.stopped) return Promise.reject(stoppedError());
    return this.pending(this.node.propose(data, monotonicNow()));
  }

  /**
   * Proposes one membership change (add a learner, promote it, remove a
   * member); resolves once its config entry is committed and applied here.
   * Rejects as `propose` does, and with E_MEMBERSHIP_PENDING (retry later)
   * or E_INVALID_MEMBERSHIP from the core.
   */
  async proposeMembership(change: MembershipChange): Promise<void> {
    if (this.stopped) throw stoppedError();
    await this.pending(this.node.proposeMembership(change, monotonicNow()));
  }

  private pending(result: ProposeResult): Promise<unknown> {
    if (!result.ok) {
      const leader = result.code === 'E_NOT_LEADER' ? result.leader : null;
      const message = result.code === 'E_NOT_LEADER' ? 'this node is not the leader' : result.message;
      return Promise.reject(new RuntimeError(result.code, message, leader));
    }
    this.schedule();
    return new Promise((resolve, reject) => {
      this.pendingProposals.set(result.index, { term: result.term, resolve, reject });
    });
  }

  /** Linearizable read barrier: resolves once this node's state machine is at least as new as the leader's commit at call time. */
  readBarrier(): Promise<number> {
    if (this.stopped) return Promise.reject(stoppedError());
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      this.pendingReads.set(requestId, { resolve, reject, index: null });
      this.node.readIndex(requestId, monotonicNow());
      this.schedule();
    });
  }

  /** Hands leadership to `to`; resolves when the request was accepted by the core. */
  transferLeadership(to: NodeId): void {
    const result = this.node.transferLeadership(to, monotonicNow());
    if (!result.ok) {
      const message = result.code === 'E_NOT_LEADER' ? 'this node is not the leader' : result.message;
      throw new RuntimeError(result.code, message);
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const err = stoppedError();
    for (const p of this.pendingProposals.values()) p.reject(err);
    for (const r of this.pendingReads.values()) r.reject(err);
    this.pendingProposals.clear();
    this.pendingReads.clear();
    await this.inFlight;
  }

  private receive(msg: Message): void {
    if (this.stopped) return;
    this.node.step(msg, monotonicNow());
    this.schedule();
  }

  /** Coalesces wake-ups: many messages or proposals in one turn make one Ready. */
  private schedule(): void {
    if (this.stopped || this.processScheduled) return;
    this.processScheduled = true;
    setImmediate(() => {
      this.processScheduled = false;
      void this.process();
    });
  }

  private armTimer(): void {
    const at = this.node.nextWakeAt();
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    if (!Number.isFinite(at)) {
      this.timer = null;
      return;
    }
    const delay = Math.max(0, at - monotonicNow());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      if (this.stopped) return;
      this.node.tick(monotonicNow());
      this.schedule();
    }, delay);
  }

  private process(): Promise<void> {
    if (this.processing || this.stopped) return Promise.resolve();
    this.inFlight = this.processReadies();
    return this.inFlight;
  }

  private async processReadies(): Promise<void> {
    this.processing = true;
    try {
      while (!this.stopped && this.node.hasReady()) {
        const ready = this.node.ready();
        await this.handleReady(ready);
        this.node.advance(ready);
      }
      this.maybeSnapshot();
    } catch (err) {
      this.stopped = true;
      this.onFatal(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.processing = false;
    }
    if (!this.stopped) this.armTimer();
  }

  private async handleReady(ready: Ready): Promise<void> {
    for (const msg of ready.messagesNow) this.transport.send(msg.to, msg, 'control');
    if (ready.snapshot) await this.installSnapshot(ready.snapshot);
    if (ready.snapshot || ready.entries.length > 0 || ready.hardState) {
      await this.store.save({ snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState }, ready.mustSync);
    }
    for (const msg of ready.messages) this.transport.send(msg.to, msg, msg.type === 'snapshot' ? 'bulk' : 'control');
    for (const entry of ready.committed) this.applyEntry(entry);
    for (const rs of ready.readStates) {
      const read = this.pendingReads.get(rs.requestId);
      if (read) read.index = rs.index;
    }
    for (const rf of ready.readFailures) {
      const read = this.pendingReads.get(rf.requestId);
      if (!read) continue;
      this.pendingReads.delete(rf.requestId);
      read.reject(new RuntimeError(rf.code, 'this node is not the leader', rf.leader));
    }
    this.serveReads();
  }

  /** Read whole before it is stored: a bad snapshot from the leader is never persisted. */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    await inSlices(this.stateMachine.restore(snapshot.data));
    this.appliedIndex = snapshot.meta.index;
    this.appliedTerm = snapshot.meta.term;
    this.appliedMembership = snapshot.meta.membership;
    this.lastSnapshotIndex = Math.max(this.lastSnapshotIndex, snapshot.meta.index);
    // Proposals at or below the snapshot were decided elsewhere; their callers cannot learn the result here.
    for (const [index, p] of this.pendingProposals) {
      if (index > snapshot.meta.index) continue;
      this.pendingProposals.delete(index);
      p.reject(new RuntimeError('E_LEADERSHIP_LOST', 'the outcome was superseded by a snapshot; check the history'));
    }
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.appliedIndex) return;
    let result: unknown = undefined;
    if (entry.kind === 'command') result = this.stateMachine.apply(entry.index, entry.term, entry.data);
    if (entry.kind === 'config') this.appliedMembership = JSON.parse(entry.data) as Membership;
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    const pending = this.pendingProposals.get(entry.index);
    if (!pending) return;
    this.pendingProposals.delete(entry.index);
    if (pending.term === entry.term) pending.resolve(result);
    else pending.reject(new RuntimeError('E_LEADERSHIP_LOST', 'leadership changed before the proposal committed; it was not applied'));
  }

  private serveReads(): void {
    for (const [id, read] of this.pendingReads) {
      if (read.index === null || read.index > this.appliedIndex) continue;
      this.pendingReads.delete(id);
      read.resolve(this.appliedIndex);
    }
  }

  /**
   * Once enough entries were applied since the last snapshot, writes one of
   * the state as of now, in slices, then compacts the log up to it (the
   * core ignores a snapshot that an installed one has overtaken meanwhile).
   */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.appliedIndex - this.lastSnapshotIndex < this.snapshotEvery) return;
    const meta = { index: this.appliedIndex, term: this.appliedTerm, membership: this.appliedMembership };
    const writing = this.stateMachine.snapshot();
    this.snapshotting = true;
    inSlices(writing)
      .then((data) => {
        if (this.stopped) return;
        const snapshot: Snapshot = { meta, data };
        this.lastSnapshotIndex = Math.max(this.lastSnapshotIndex, meta.index);
        this.node.compact(snapshot);
        this.store.compact(snapshot).catch((err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))));
      })
      .catch((err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.snapshotting = false;
      });
  }
}
