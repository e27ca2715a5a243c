// The simulated world: nodes, network, disks, clocks, clients and faults,
// all driven from one seed through one event queue in true time (ms).
// Checkers run after every event that touched a node (checks.ts); the
// linearizability check runs at the end. A run is a safety phase under
// faults (faults.ts) followed by a liveness phase (liveness.ts). In resource
// runs (resource-sim.ts) every node also runs the real lease and group
// controllers over a simulated monitor, guard and resource world.
import type { PlantedBugs } from '../../src/agent/consensus/raft.js';
import type { Entry, Membership, Message, NodeId, ReadFailure, Snapshot } from '../../src/agent/consensus/types.js';
import { checkLinearizable } from './checkers/linearizable.js';
import type { Violation } from './checkers/violation.js';
import { Checks } from './checks.js';
import { Clients } from './clients.js';
import type { ClientWorld } from './clients.js';
import { SimClock } from './clock.js';
import type { StoreWrite } from './disk.js';
import { Faults } from './faults.js';
import { Liveness } from './liveness.js';
import { MembershipDriver } from './membership-driver.js';
import { SimNetwork } from './network.js';
import { SimNode } from './node.js';
import type { NodeHost } from './node.js';
import { describeParams, drawParams, LIVENESS_BOUND_MS } from './params.js';
import { EventQueue } from './queue.js';
import type { WorldParams } from './params.js';
import type { AgentBugs } from './agent.js';
import { describeResources, drawResourceParams, resourceOverrides } from './resource-params.js';
import type { ResourceParams } from './resource-params.js';
import { ResourceSim } from './resource-sim.js';
import type { ResEvent } from './resource-sim.js';
import { SimRng } from './rng.js';
import { emptyStats } from './stats.js';
import type { RunStats } from './stats.js';
import { describeMessage, Trace } from './trace.js';

export type RaftBugName = keyof PlantedBugs;
export type LeaseBugName = keyof AgentBugs;
export type BugName = RaftBugName | LeaseBugName;
export const RAFT_BUG_NAMES: readonly RaftBugName[] = ['commitOldTermEntries', 'replyBeforeVoteDurable', 'grantVoteWithoutUpToDateCheck', 'noVoterStickiness'];
/** Lease bugs need the resource world: a run with one of them always has resources. */
export const LEASE_BUG_NAMES: readonly LeaseBugName[] = ['anchorAtReceipt', 'settleWithoutRho', 'noSettlingAfterElection'];
export const BUG_NAMES: readonly BugName[] = [...RAFT_BUG_NAMES, ...LEASE_BUG_NAMES];

export function isLeaseBug(bug: BugName | undefined): bug is LeaseBugName {
  return LEASE_BUG_NAMES.includes(bug as LeaseBugName);
}

export interface RunOptions {
  seed: number;
  bug?: BugName;
  /** Build and hash trace lines (needed for `traceHash`). */
  trace?: boolean;
  /** Receives each trace line as it is made. */
  onTraceLine?: (line: string) => void;
  /** Replaces some of the drawn parameters (directed scenarios in tests). */
  params?: Partial<WorldParams>;
  /** Run the resource world on every seed (true), on none (false), or on the half the seed picks (absent). */
  resources?: boolean;
}

export interface RunResult {
  seed: number;
  violation: Violation | null;
  stats: RunStats;
  /** Hash of the whole trace (0 unless `trace`). */
  traceHash: number;
  traceLines: number;
  /** The last trace lines before the end (when tracing). */
  traceTail: string[];
  params: WorldParams;
  resourceParams: ResourceParams;
}

export type SimEvent =
  | { type: 'deliver'; msg: Message }
  | { type: 'wake'; node: NodeId; gen: number }
  | { type: 'sync'; node: NodeId; life: number; mark: number }
  | { type: 'flush'; node: NodeId; life: number }
  | { type: 'crash-fault' }
  | { type: 'leader-churn' }
  | { type: 'crash'; node: NodeId; life: number }
  | { type: 'restart'; node: NodeId; life: number }
  | { type: 'partition' }
  | { type: 'membership' }
  | { type: 'client'; client: string }
  | { type: 'timeout'; opId: number }
  | { type: 'retire'; node: NodeId }
  | { type: 'liveness' }
  | { type: 'final-read' }
  | { type: 'res'; ev: ResEvent };

const CLUSTER_ID = 'sim-cluster';
/** How long after `now` a timer whose deadline already passed fires (true ms: 1 µs). */
const PAST_DEADLINE_DELAY_MS = 0.001;

export class World implements NodeHost, ClientWorld {
  now = 0;
  readonly params: WorldParams;
  readonly stats = emptyStats();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly tracer: Trace;
  readonly tracing: boolean;
  readonly clients: Clients;
  readonly network: SimNetwork;
  phase: 'safety' | 'liveness' | 'done' = 'safety';
  violation: Violation | null = null;

  private readonly queue = new EventQueue<SimEvent>();
  /** Timing draws of the world itself (restart delays, fsync latency, timer lateness). */
  private readonly worldRng: SimRng;
  private readonly coreRng: SimRng;
  private readonly clockRng: SimRng;
  private readonly bugs: PlantedBugs | undefined;
  private nodeCounter = 0;
  private readonly checks = new Checks((v) => this.fail(v));
  private readonly faults: Faults;
  readonly membership: MembershipDriver;
  private readonly liveness: Liveness;
  readonly resourceParams: ResourceParams;
  /** The resource side of the run; null when the seed runs none. */
  readonly resources: ResourceSim | null;
  /** Consecutive wakes asked for in the past (a core that never moves its deadline would spin forever). */
  private pastDeadlines = 0;

  constructor(readonly opts: RunOptions) {
    const root = new SimRng(opts.seed);
    const drawn = { ...drawParams(root.fork()), ...opts.params };
    this.worldRng = root.fork();
    this.coreRng = root.fork();
    this.clockRng = root.fork();
    const netRng = root.fork();
    const clientRng = root.fork();
    const memberRng = root.fork();
    const livenessRng = root.fork();
    const faultRng = root.fork();
    // Drawn last, from their own streams, so that runs without resources draw what they always drew.
    const resourceDrawRng = root.fork();
    const resourceRng = root.fork();
    const leaseBug = isLeaseBug(opts.bug);
    const initialIds = Array.from({ length: drawn.nodes }, (_, i) => `n${i + 1}`);
    this.resourceParams = drawResourceParams(resourceDrawRng, drawn.config, initialIds, leaseBug ? true : opts.resources);
    this.params = this.resourceParams.enabled ? { ...drawn, ...resourceOverrides(drawn, this.resourceParams), ...opts.params } : drawn;
    this.bugs = opts.bug === undefined || leaseBug ? undefined : { [opts.bug]: true };
    this.tracing = opts.trace === true || opts.onTraceLine !== undefined;
    this.tracer = new Trace(this.tracing, opts.onTraceLine ?? null, 40);
    this.network = new SimNetwork(netRng, this.params, this.stats);
    const p = this.params;
    this.clients = new Clients(clientRng, this, this.stats, p.keys, p.readFraction, p.clientThinkMs, p.clientPauseProb, p.clientTimeoutMs);
    this.membership = new MembershipDriver(memberRng, this);
    this.liveness = new Liveness(this, livenessRng);
    this.faults = new Faults(this, faultRng);
    this.resources = null;
    if (this.resourceParams.enabled) {
      this.resources = new ResourceSim(this, this.resourceParams, resourceRng, leaseBug ? { [opts.bug as LeaseBugName]: true } : {}, initialIds);
    }
  }

  run(): RunResult {
    const p = this.params;
    this.trace('sim', `seed ${this.opts.seed}: ${describeParams(p)}${this.opts.bug ? ` bug=${this.opts.bug}` : ''}`);
    if (this.resources !== null) this.trace('sim', `resources: ${describeResources(this.resourceParams)}`);
    const bootstrap: Membership = { members: [] };
    const initial: SimNode[] = [];
    for (let i = 0; i < p.nodes; i++) {
      const node = this.createNode();
      initial.push(node);
      bootstrap.members.push({ id: node.id, incarnation: node.incarnation, kind: 'node', role: 'voter' });
    }
    for (const node of initial) {
      node.bootstrap = bootstrap;
      this.startNode(node);
    }
    this.faults.start();
    this.resources?.start();
    this.schedule(this.worldRng.exp(p.membershipEveryMs), { type: 'membership' });
    for (let c = 1; c <= p.clients; c++) this.schedule(this.worldRng.float(0, 50), { type: 'client', client: `c${c}` });
    this.schedule(p.safetyMs, { type: 'liveness' });
    const end = p.safetyMs + LIVENESS_BOUND_MS;
    while (this.violation === null && this.phase !== 'done') {
      const ev = this.queue.pop();
      if (ev === undefined || ev.at > end) {
        this.now = Math.min(ev?.at ?? end, end);
        this.fail(this.liveness.timeoutViolation());
        break;
      }
      this.now = ev.at;
      this.stats.events++;
      try {
        this.dispatch(ev.item);
      } catch (err) {
        const e = err as Error;
        this.fail({ checker: 'exception', at: this.now, detail: `${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` });
      }
    }
    this.clients.finishAll();
    if (this.violation === null) {
      const lin = checkLinearizable(this.clients.history);
      this.stats.linearizabilityInconclusive = lin.inconclusiveKeys.length;
      if (lin.violation !== null) this.fail(lin.violation);
    }
    this.stats.elections = this.checks.elections;
    this.stats.simulatedMs = this.now;
    if (this.resources !== null) {
      const r = this.resources.stats;
      Object.assign(this.stats, { resourceRuns: 1, ...r });
    }
    return {
      seed: this.opts.seed,
      violation: this.violation,
      stats: this.stats,
      traceHash: this.tracer.hash,
      traceLines: this.tracer.lines,
      traceTail: this.tracer.lastLines(),
      params: p,
      resourceParams: this.resourceParams,
    };
  }

  // ---- Events --------------------------------------------------------------

  schedule(at: number, item: SimEvent): void {
    if (at !== Infinity) this.queue.push(at, item);
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.type) {
      case 'deliver':
        return this.deliver(ev.msg);
      case 'wake': {
        const node = this.nodes.get(ev.node);
        if (node?.raft == null || node.wakeGen !== ev.gen || this.paused(node, ev)) return;
        node.wakeLocal = NaN; // re-arm after the tick even if the core names the same deadline
        this.stats.ticks++;
        if (this.tracing) this.trace(node.id, 'tick');
        node.raft.tick(this.localNow(node));
        return this.touched(node);
      }
      case 'sync': {
        const node = this.nodes.get(ev.node);
        if (node?.raft == null || node.life !== ev.life || this.paused(node, ev)) return;
        this.stats.fsyncs++;
        if (this.tracing) this.trace(node.id, `fsync done up to write ${ev.mark}`);
        node.synced(this, ev.mark);
        return this.touched(node);
      }
      case 'flush': {
        const node = this.nodes.get(ev.node);
        if (node?.raft == null || node.life !== ev.life || this.paused(node, ev)) return;
        this.flush(node);
        return this.settle(node);
      }
      case 'crash-fault':
        return this.faults.randomCrash();
      case 'leader-churn':
        return this.faults.leaderChurn();
      case 'crash': {
        const node = this.nodes.get(ev.node);
        if (node !== undefined && node.life === ev.life) this.crash(node);
        return;
      }
      case 'restart': {
        const node = this.nodes.get(ev.node);
        if (node !== undefined && node.life === ev.life && !node.up && !node.retired && this.liveness.mayRestart(node.id)) {
          this.restart(node);
        }
        return;
      }
      case 'partition':
        return this.faults.repartition();
      case 'membership':
        if (this.phase !== 'safety') return;
        this.membership.attempt();
        this.schedule(this.now + this.worldRng.exp(this.params.membershipEveryMs), { type: 'membership' });
        return;
      case 'client':
        return this.clients.issue(ev.client);
      case 'timeout':
        return this.clients.timeout(ev.opId);
      case 'retire': {
        const node = this.nodes.get(ev.node);
        if (node === undefined || node.retired) return;
        this.trace(node.id, 'retired (removed from the cluster)');
        if (node.up) this.down(node);
        node.retired = true;
        return;
      }
      case 'liveness':
        this.phase = 'liveness';
        this.clients.stopped = true;
        // Every entry a core holds reaches its store first, so that the heal set sees every configuration.
        for (const node of this.upNodes()) if (node.flushPending) this.flush(node);
        this.liveness.begin();
        this.schedule(this.now, { type: 'final-read' });
        return;
      case 'final-read':
        // Both are asked every time, so that each records when it was met.
        if ([this.liveness.finalReads(), this.resources?.groupsUp(this.liveness.healedSet()) ?? true].every(Boolean)) {
          this.stats.livenessMs = this.now - this.params.safetyMs;
          this.phase = 'done';
        } else {
          this.schedule(this.now + 50, { type: 'final-read' });
        }
        return;
      case 'res':
        return this.resources?.dispatch(ev.ev);
    }
  }

  /** A paused agent handles nothing: the event waits for the resume. */
  private paused(node: SimNode, ev: SimEvent): boolean {
    if (node.agentPausedUntil <= this.now) return false;
    this.schedule(node.agentPausedUntil, ev);
    return true;
  }

  /** Whether `node` is up and its agent not paused (clients and final reads go to such nodes only). */
  available(node: SimNode): boolean {
    return node.up && node.agentPausedUntil <= this.now;
  }

  private deliver(msg: Message): void {
    const node = this.nodes.get(msg.to);
    if (node?.raft == null) {
      this.stats.messagesDropped++;
      return;
    }
    if (!this.network.deliverable(msg)) return;
    if (this.paused(node, { type: 'deliver', msg })) return;
    this.resources?.heard(node, msg.from);
    if (this.tracing) this.trace(node.id, `recv ${describeMessage(msg)}`);
    const local = this.localNow(node);
    if (this.params.tickOnDeliver) {
      this.stats.ticks++;
      node.raft.tick(local);
    }
    node.raft.step(msg, local);
    this.touched(node);
  }

  // ---- Nodes ---------------------------------------------------------------

  createNode(): SimNode {
    const id = `n${++this.nodeCounter}`;
    const incarnation = `${id}-${this.clockRng.u32().toString(16)}`;
    const node = new SimNode(id, incarnation, this.drawClock());
    this.nodes.set(id, node);
    return node;
  }

  private drawClock(): SimClock {
    const p = this.params;
    const spread = p.clockSpread;
    const rate = p.extremeClocks ? (this.clockRng.chance(0.5) ? 1 + spread : 1 - spread) : this.clockRng.float(1 - spread, 1 + spread);
    return new SimClock(this.clockRng.float(0, 1e6), rate);
  }

  /** Start or restart from the disk; an initial member whose disk is empty bootstraps (again). */
  startNode(node: SimNode): void {
    const fresh = node.disk.isEmpty;
    const bootstrap = node.bootstrap;
    const restored = node.start({
      clusterId: CLUSTER_ID,
      config: this.params.config,
      rng: this.coreRng.fork(),
      now: this.localNow(node),
      ...(bootstrap !== undefined && fresh ? { bootstrap } : {}),
      ...(this.bugs !== undefined ? { bugs: this.bugs } : {}),
      applyEarly: this.params.applyEarly,
    });
    const hs = restored.hardState;
    const snap = restored.snapshot;
    this.trace(
      node.id,
      `start term=${hs.term} vote=${hs.votedFor ?? '-'} commit=${hs.commit} snap=${snap?.meta.index ?? 0} log=${restored.entries.length} ` +
        `clock=${node.clock.rate.toFixed(4)}x${fresh && bootstrap ? ' bootstrap' : ''}`,
    );
    this.checks.started(node.id, this.now, restored, node.sm.hash());
    this.resources?.nodeStarted(node);
    this.touched(node);
  }

  /** Crashes `node` now (unsynced writes lost or torn) and schedules its restart. */
  crash(node: SimNode): void {
    if (!node.up) return;
    this.stats.crashes++;
    this.down(node);
    const out = node.disk.crash(this.worldRng);
    if (out.lostWrites > 0) this.stats.lostWrites++;
    if (out.torn) this.stats.tornTails++;
    this.trace(node.id, `crash: lost ${out.lostWrites} unsynced writes${out.torn ? ', tore the last' : ''}`);
    this.schedule(this.now + this.worldRng.float(0, this.params.restartMaxMs), { type: 'restart', node: node.id, life: node.life });
  }

  /** The node stops: volatile state gone, its clients' operations in doubt. */
  private down(node: SimNode): void {
    this.resources?.nodeDown(node);
    node.crash();
    this.checks.down(node.id, this.now);
    this.clients.nodeDown(node);
  }

  restart(node: SimNode): void {
    this.stats.restarts++;
    if (this.worldRng.chance(this.params.rebootProb)) {
      // A reboot: the monotonic clock starts from another offset, at the same rate.
      node.clock = new SimClock(this.clockRng.float(0, 1e6) - node.clock.rate * this.now, node.clock.rate);
      this.stats.reboots++;
    }
    this.startNode(node);
  }

  localNow(node: SimNode): number {
    return node.clock.local(this.now);
  }

  allIds(): NodeId[] {
    return [...this.nodes.keys()].filter((id) => !(this.nodes.get(id) as SimNode).retired);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  leaderGuess(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      const st = n.raft?.status();
      if (st?.role === 'leader' && st.term > bestTerm) {
        best = n;
        bestTerm = st.term;
      }
    }
    return best;
  }

  /** After any call into a node's core: take its Readies, compact, check, and re-arm its timer. */
  touched(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    const batchMs = this.params.readyBatchMs;
    if (batchMs === 0) {
      this.flush(node);
    } else if (!node.flushPending) {
      // An event loop that takes the Ready once per turn: whatever arrives meanwhile is batched.
      node.flushPending = true;
      this.schedule(this.now + this.worldRng.float(0, batchMs), { type: 'flush', node: node.id, life: node.life });
    }
    this.settle(node);
  }

  /** Checks the node's state and re-arms its timer. */
  private settle(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    this.observe(node);
    const wakeLocal = raft.nextWakeAt();
    if (wakeLocal === node.wakeLocal) return;
    node.wakeLocal = wakeLocal;
    node.wakeGen++;
    if (wakeLocal === Infinity) return;
    let at = node.clock.trueNotBefore(wakeLocal) + this.worldRng.float(0, this.params.timerLateMaxMs);
    if (at <= this.now) {
      // A deadline already passed: a real timer fires on a later clock reading, never the same one.
      at = this.now + PAST_DEADLINE_DELAY_MS;
      if (++this.pastDeadlines > 10_000) throw new Error(`${node.id} keeps asking to be woken in the past (nextWakeAt ${wakeLocal})`);
    } else {
      this.pastDeadlines = 0;
    }
    this.schedule(at, { type: 'wake', node: node.id, gen: node.wakeGen });
  }

  private flush(node: SimNode): void {
    node.flushPending = false;
    node.drain(this);
    node.maybeCompact(this, this.params.compactEvery);
  }

  private observe(node: SimNode): void {
    const st = node.raft?.status();
    if (st === undefined) return;
    const newLeader = this.checks.observed(node.id, this.now, st, node.clock, !node.flushPending);
    if (newLeader && this.tracing) this.trace(node.id, `became leader of term ${st.term}`);
    if (st.role === 'leader') this.faults.leaderObserved(node, st, newLeader);
  }

  // ---- NodeHost ------------------------------------------------------------

  send(msg: Message): void {
    this.checks.sent(msg);
    const copies = this.network.send(msg);
    if (this.tracing) this.trace(msg.from, `send ${describeMessage(msg)}${copies.length === 0 ? ' (dropped)' : copies.length > 1 ? ' (duplicated)' : ''}`);
    for (const c of copies) this.schedule(this.now + c.delay, { type: 'deliver', msg: c.copy });
    if (msg.type === 'vote-resp' && msg.granted) this.faults.voteGranted(msg.from);
  }

  scheduleSync(node: SimNode, mark: number): void {
    const p = this.params;
    let latency = this.worldRng.float(p.fsyncMinMs, p.fsyncMaxMs);
    if (this.worldRng.chance(p.fsyncSlowProb)) latency += this.worldRng.float(0, p.fsyncSlowMs);
    node.syncsDoneAt = Math.max(node.syncsDoneAt, this.now + latency);
    this.schedule(node.syncsDoneAt, { type: 'sync', node: node.id, life: node.life, mark });
    this.faults.syncIssued(node, node.syncsDoneAt);
  }

  wrote(node: SimNode, w: StoreWrite): void {
    if (w.kind === 'compact') this.stats.compactions++;
    this.checks.wrote(node.id, this.now, w);
  }

  restoredSnapshot(node: SimNode, snapshot: Snapshot): void {
    this.stats.snapshotsInstalled++;
    if (this.tracing) this.trace(node.id, `installed snapshot ${snapshot.meta.index}/${snapshot.meta.term}`);
    this.checks.snapshotRestored(node.id, this.now, snapshot.meta.index, node.sm.hash());
  }

  applied(node: SimNode, entry: Entry): void {
    const first = this.checks.highestCommitted < entry.index;
    this.checks.applied(node.id, this.now, entry, node.raft?.status().term ?? 0, node.sm.hash());
    this.check(this.clients.applied(node, entry));
    if (entry.kind === 'config' && first) this.membership.committed(entry);
  }

  readServed(node: SimNode, requestId: string): void {
    this.clients.readServed(node, requestId);
  }

  readFailed(node: SimNode, failure: ReadFailure): void {
    this.clients.readFailed(node, failure);
  }

  // ---- ClientWorld -----------------------------------------------------------

  scheduleClient(at: number, client: string): void {
    this.schedule(at, { type: 'client', client });
  }

  scheduleTimeout(at: number, opId: number): void {
    this.schedule(at, { type: 'timeout', opId });
  }

  // ---- Reporting -------------------------------------------------------------

  trace(node: string, text: string): void {
    this.tracer.line(this.now, node, text);
  }

  fail(v: Violation): void {
    if (this.violation !== null) return;
    this.violation = v;
    this.trace('sim', `VIOLATION ${v.checker}: ${v.detail}`);
  }

  check(v: Violation | null): void {
    if (v !== null) this.fail(v);
  }
}

export function runSeed(opts: RunOptions): RunResult {
  return new World(opts).run();
}
