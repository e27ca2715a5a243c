// The simulated node shell: one RaftNode, its store, its state machine and
// its clock, driven exactly as the Ready duties in types.ts require:
// messagesNow go out at once; the Ready's writes go to the store; when
// `mustSync` the shell waits for its fsync, and only then sends `messages`
// and calls advance(). The state machine work (restore the snapshot, apply
// `committed`, serve `readStates`) happens after the fsync too, or, with
// `applyEarly`, as soon as the Ready is taken (duty 6 allows it). Readies
// are taken as soon as the core has one and complete in order. The shell
// decides nothing; everything it sees goes to the host (the world).
import { RaftNode } from '../../src/agent/consensus/raft.js';
import type { PlantedBugs } from '../../src/agent/consensus/raft.js';
import type { RaftConfig } from '../../src/agent/consensus/config.js';
import type { Entry, Membership, Message, NodeId, Ready, ReadFailure, ReadState, RestoredState, Snapshot } from '../../src/agent/consensus/types.js';
import type { SimClock } from './clock.js';
import { SimDisk } from './disk.js';
import type { StoreWrite } from './disk.js';
import type { SimRng } from './rng.js';
import { SimStateMachine } from './state-machine.js';

/** What the shell reports to, and asks of, the world around it. */
export interface NodeHost {
  /** Whether trace lines are wanted (building them costs time in batch runs). */
  readonly tracing: boolean;
  trace(node: NodeId, text: string): void;
  /** Hands a message to the network (and to the checkers). */
  send(msg: Message): void;
  /** Schedules `node.synced(host, mark)` after a simulated fsync latency (unless the node crashes first). */
  scheduleSync(node: SimNode, mark: number): void;
  /** A write reached the store's buffer (for the log checkers). */
  wrote(node: SimNode, w: StoreWrite): void;
  /** The state machine was reset to `snapshot`. */
  restoredSnapshot(node: SimNode, snapshot: Snapshot): void;
  applied(node: SimNode, entry: Entry): void;
  readServed(node: SimNode, requestId: string): void;
  readFailed(node: SimNode, failure: ReadFailure): void;
}

interface InflightReady {
  ready: Ready;
  /** Disk mark its fsync must reach; null when it needs none. */
  syncMark: number | null;
}

export interface StartOptions {
  clusterId: string;
  config: RaftConfig;
  rng: SimRng;
  /** Local time (ms) of the start. */
  now: number;
  bootstrap?: Membership;
  bugs?: PlantedBugs;
  applyEarly: boolean;
}

export class SimNode {
  readonly disk = new SimDisk();
  readonly sm = new SimStateMachine();
  raft: RaftNode | null = null;
  /** Bumped at every crash so that events of an earlier life are ignored. */
  life = 0;
  /** Removed from the cluster and shut down for good. */
  retired = false;
  /** The initial membership, for initial members: given to the core whenever the disk is empty. */
  bootstrap: Membership | undefined;
  appliedIndex = 0;
  appliedTerm = 0;
  appliedMembership: Membership = { members: [] };
  snapshotIndex = 0;
  /** A flush event (take the Readies) is queued. */
  flushPending = false;
  /** Local time the queued wake event is for (NaN: none), and its generation. */
  wakeLocal = NaN;
  wakeGen = 0;
  /** True time by which every fsync issued so far completes (fsyncs finish in order). */
  syncsDoneAt = 0;
  /** True time until which the agent process (consensus and controller) is paused; its events wait. */
  agentPausedUntil = 0;
  private inflight: InflightReady[] = [];
  private pendingReads: ReadState[] = [];
  private compaction: { snapshot: Snapshot; mark: number } | null = null;
  private applyEarly = false;

  constructor(
    readonly id: NodeId,
    readonly incarnation: string,
    public clock: SimClock,
  ) {}

  get up(): boolean {
    return this.raft !== null;
  }

  start(opts: StartOptions): RestoredState {
    const restored = this.disk.restore();
    const snap = restored.snapshot;
    this.sm.restore(snap?.data ?? '');
    this.appliedIndex = snap?.meta.index ?? 0;
    this.appliedTerm = snap?.meta.term ?? 0;
    this.snapshotIndex = this.appliedIndex;
    this.appliedMembership = snap?.meta.membership ?? opts.bootstrap ?? { members: [] };
    this.applyEarly = opts.applyEarly;
    this.raft = new RaftNode({
      id: this.id,
      clusterId: opts.clusterId,
      incarnation: this.incarnation,
      config: opts.config,
      rng: opts.rng,
      now: opts.now,
      restored,
      ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}),
      ...(opts.bugs !== undefined ? { bugs: opts.bugs } : {}),
    });
    return restored;
  }

  /** Volatile state is gone; unsynced writes are lost or torn by the disk. */
  crash(): void {
    this.raft = null;
    this.life++;
    this.inflight = [];
    this.pendingReads = [];
    this.compaction = null;
    this.flushPending = false;
    this.wakeLocal = NaN;
    this.wakeGen++;
    this.agentPausedUntil = 0;
  }

  /** Takes every Ready the core has, in order. */
  drain(host: NodeHost): void {
    const raft = this.raft;
    if (raft === null) return;
    while (this.raft === raft && raft.hasReady()) {
      const ready = raft.ready();
      if (host.tracing) host.trace(this.id, describeReady(ready));
      for (const m of ready.messagesNow) host.send(m);
      if (ready.snapshot !== null) this.write(host, { kind: 'snapshot', snapshot: ready.snapshot });
      if (ready.entries.length > 0) this.write(host, { kind: 'entries', entries: ready.entries });
      if (ready.hardState !== null) this.write(host, { kind: 'hard-state', hardState: ready.hardState });
      if (this.applyEarly) this.applyReady(host, ready);
      let syncMark: number | null = null;
      if (ready.mustSync) {
        syncMark = this.disk.writeMark;
        host.scheduleSync(this, syncMark);
      }
      this.inflight.push({ ready, syncMark });
      this.completeReadies(host);
    }
  }

  /** The fsync up to `mark` completed. */
  synced(host: NodeHost, mark: number): void {
    this.disk.syncTo(mark);
    const c = this.compaction;
    if (c !== null && c.mark <= this.disk.syncedMark && this.raft !== null) {
      this.compaction = null;
      this.raft.compact(c.snapshot);
      if (host.tracing) host.trace(this.id, `compacted to ${c.snapshot.meta.index}/${c.snapshot.meta.term}`);
    }
    this.completeReadies(host);
  }

  private write(host: NodeHost, w: StoreWrite): void {
    this.disk.write(w);
    host.wrote(this, w);
  }

  private completeReadies(host: NodeHost): void {
    const raft = this.raft;
    while (raft !== null && this.raft === raft) {
      const head = this.inflight[0];
      if (head === undefined || (head.syncMark !== null && head.syncMark > this.disk.syncedMark)) return;
      this.inflight.shift();
      const ready = head.ready;
      for (const m of ready.messages) host.send(m);
      if (!this.applyEarly) this.applyReady(host, ready);
      raft.advance(ready);
    }
  }

  /** The state machine's part of a Ready. */
  private applyReady(host: NodeHost, ready: Ready): void {
    if (ready.snapshot !== null) this.restoreSnapshot(host, ready.snapshot);
    for (const e of ready.committed) this.apply(host, e);
    for (const f of ready.readFailures) host.readFailed(this, f);
    this.pendingReads.push(...ready.readStates);
    this.serveReads(host);
  }

  private restoreSnapshot(host: NodeHost, snapshot: Snapshot): void {
    this.sm.restore(snapshot.data);
    this.appliedIndex = snapshot.meta.index;
    this.appliedTerm = snapshot.meta.term;
    this.appliedMembership = snapshot.meta.membership;
    this.snapshotIndex = snapshot.meta.index;
    host.restoredSnapshot(this, snapshot);
  }

  private apply(host: NodeHost, e: Entry): void {
    this.sm.apply(e);
    this.appliedIndex = e.index;
    this.appliedTerm = e.term;
    if (e.kind === 'config') this.appliedMembership = JSON.parse(e.data) as Membership;
    host.applied(this, e);
  }

  private serveReads(host: NodeHost): void {
    const waiting: ReadState[] = [];
    for (const rs of this.pendingReads) {
      if (rs.index <= this.appliedIndex) host.readServed(this, rs.requestId);
      else waiting.push(rs);
    }
    this.pendingReads = waiting;
  }

  /** Starts a compaction when enough entries were applied since the last snapshot. */
  maybeCompact(host: NodeHost, every: number): void {
    if (this.raft === null || this.compaction !== null || this.appliedIndex - this.snapshotIndex < every) return;
    const snapshot: Snapshot = {
      meta: { index: this.appliedIndex, term: this.appliedTerm, membership: this.appliedMembership },
      data: this.sm.serialize(),
    };
    this.snapshotIndex = this.appliedIndex;
    this.write(host, { kind: 'compact', snapshot });
    const mark = this.disk.writeMark;
    this.compaction = { snapshot, mark };
    host.scheduleSync(this, mark);
  }
}

function describeReady(r: Ready): string {
  const parts = ['ready'];
  if (r.snapshot !== null) parts.push(`snap=${r.snapshot.meta.index}/${r.snapshot.meta.term}`);
  if (r.entries.length > 0) {
    const first = r.entries[0] as Entry;
    const last = r.entries[r.entries.length - 1] as Entry;
    parts.push(`ents=${first.index}..${last.index}/t${last.term}`);
  }
  if (r.hardState !== null) parts.push(`hs=t${r.hardState.term},v=${r.hardState.votedFor ?? '-'},c=${r.hardState.commit}`);
  if (r.mustSync) parts.push('sync');
  if (r.messages.length > 0) parts.push(`msgs=${r.messages.length}`);
  if (r.messagesNow.length > 0) parts.push(`now=${r.messagesNow.length}`);
  if (r.committed.length > 0) parts.push(`apply=${(r.committed[0] as Entry).index}..${(r.committed[r.committed.length - 1] as Entry).index}`);
  if (r.readStates.length > 0) parts.push(`reads=${r.readStates.length}`);
  if (r.readFailures.length > 0) parts.push(`readfail=${r.readFailures.length}`);
  return parts.join(' ');
}
