// The resource side of a simulated run: on every node an agent (real lease
// holder, node controller, and when leading the real lease granter and
// placement planner), a monitor and a lease guard, each a process of its
// own that can be paused; the resource world that records what really
// runs where; the administrator; resource failures and pauses as faults;
// and the liveness condition for groups. The world (world.ts) hands it
// node starts and crashes and its events.
import type { NodeId } from '../../src/agent/consensus/types.js';
import type { ControllerView, GuardLease } from '../../src/agent/core/controller-io.js';
import type { CommittedState } from '../../src/agent/core/placement-decisions.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { SimAdmin } from './admin.js';
import { SimAgent } from './agent.js';
import type { AgentBugs, AppMessage, LocalInput } from './agent.js';
import type { Violation } from './checkers/violation.js';
import { SimGuard } from './guard.js';
import { SimMonitor } from './monitor.js';
import type { SimNode } from './node.js';
import type { ResourceParams } from './resource-params.js';
import { ResourceWorld } from './resource-world.js';
import type { SimRng } from './rng.js';
import type { World } from './world.js';

/** The applied database as the planner (CommittedState) and the node controller (ControllerView) read it. */
export type Committed = CommittedState & ControllerView;

export type PauseKind = 'agent' | 'monitor' | 'guard' | 'node';

export type ResEvent =
  | { type: 'agent-tick'; node: NodeId; life: number }
  | { type: 'agent-plan'; node: NodeId; life: number }
  | { type: 'app'; msg: AppMessage }
  | { type: 'to-agent'; node: NodeId; life: number; input: LocalInput }
  | { type: 'monitor-begin'; node: NodeId; life: number; opId: number }
  | { type: 'monitor-done'; node: NodeId; life: number; opId: number }
  | { type: 'health-check'; node: NodeId; life: number; group: string; resource: string }
  | { type: 'guard-lease'; node: NodeId; life: number; lease: GuardLease }
  | { type: 'guard-fire'; node: NodeId; life: number; gen: number }
  | { type: 'guard-killed'; node: NodeId; life: number; group: string | null; deadline: number | null }
  | { type: 'process-dies'; node: NodeId; life: number; pid: number; resource: string }
  | { type: 'pause'; kind: PauseKind };

/** What lives on one node for one life of it. */
interface NodeProcs {
  life: number;
  agent: SimAgent;
  monitor: SimMonitor;
  guard: SimGuard;
}

export interface ResourceStats {
  processStarts: number;
  processDeaths: number;
  pauses: number;
  isolations: number;
  groupsConvergedMs: number;
}

export class ResourceSim {
  readonly world: ResourceWorld;
  readonly admin: SimAdmin;
  readonly stats: ResourceStats = { processStarts: 0, processDeaths: 0, pauses: 0, isolations: 0, groupsConvergedMs: 0 };
  private readonly procs = new Map<NodeId, NodeProcs>();
  private readonly committedCache = new Map<NodeId, { db: object; version: number; state: Committed }>();
  private converged = false;
  /** Grants held up on the way (by identity of the copy in flight). */
  private readonly late = new WeakSet<AppMessage>();

  constructor(
    private readonly host: World,
    readonly params: ResourceParams,
    readonly rng: SimRng,
    private readonly bugs: AgentBugs,
    initialNodes: readonly NodeId[],
  ) {
    this.world = new ResourceWorld((v: Violation) => host.fail(v));
    this.admin = new SimAdmin(this, initialNodes);
  }

  get now(): number {
    return this.host.now;
  }

  get phase(): World['phase'] {
    return this.host.phase;
  }

  get tracing(): boolean {
    return this.host.tracing;
  }

  trace(node: string, text: string): void {
    this.host.trace(node, text);
  }

  incarnationOf(id: NodeId): string {
    return this.host.nodes.get(id)?.incarnation ?? id;
  }

  localNow(node: SimNode): number {
    return node.clock.local(this.host.now);
  }

  schedule(at: number, ev: ResEvent): void {
    this.host.schedule(at, { type: 'res', ev });
  }

  start(): void {
    for (const kind of ['agent', 'monitor', 'guard', 'node'] as const) this.schedule(this.rng.exp(this.pauseEvery(kind)), { type: 'pause', kind });
  }

  // ---- Nodes ---------------------------------------------------------------

  nodeStarted(node: SimNode): void {
    const procs: NodeProcs = {
      life: node.life,
      agent: new SimAgent(this, node, this.bugs),
      monitor: new SimMonitor(this, node, node.life),
      guard: new SimGuard(this, node, node.life),
    };
    this.procs.set(node.id, procs);
    this.schedule(this.now + this.rng.float(0, this.params.timing.heartbeatIntervalMs), { type: 'agent-tick', node: node.id, life: node.life });
  }

  /** The node crashed or was shut down: every process on it dies with it. */
  nodeDown(node: SimNode): void {
    const n = this.world.kill(node.id, null, this.now);
    if (n > 0 && this.tracing) this.trace(node.id, `down: ${n} resource processes died`);
    this.procs.delete(node.id);
    this.committedCache.delete(node.id);
  }

  monitorOf(node: SimNode): SimMonitor | null {
    return this.procsOf(node.id, node.life)?.monitor ?? null;
  }

  guardOf(node: SimNode): SimGuard | null {
    return this.procsOf(node.id, node.life)?.guard ?? null;
  }

  /** Any message a node received (consensus ones too) tells its agent the sender is alive. */
  heard(to: SimNode, from: NodeId): void {
    this.procsOf(to.id, to.life)?.agent.liveness.observe(from, this.localNow(to));
  }

  private procsOf(id: NodeId, life: number): NodeProcs | null {
    const p = this.procs.get(id);
    return p !== undefined && p.life === life ? p : null;
  }

  // ---- What the agents use ----------------------------------------------------

  send(msg: AppMessage): void {
    const copies = this.host.network.send(msg);
    if (this.tracing) this.trace(msg.from, `send ${describeApp(msg)}${copies.length === 0 ? ' (dropped)' : copies.length > 1 ? ' (duplicated)' : ''}`);
    for (const c of copies) {
      let delay = c.delay;
      if (msg.kind === 'lease-grant' && this.phase === 'safety' && this.rng.chance(this.params.grantDelayProb)) {
        delay += this.rng.float(0, this.params.grantDelayMaxMs);
        this.late.add(c.copy);
        const long = delay - c.delay > this.params.timing.nodeLeaseMs / 4;
        if (long && msg.grant.groups.length > 0 && this.rng.chance(this.params.muteOnLateGrantProb)) {
          this.host.network.mute(msg.to, this.host.allIds());
          this.stats.isolations++;
          this.trace('net', `mute ${msg.to} as a grant of ${msg.grant.groups.map((p) => p.group).join(',')} leaves held up by ${(delay - c.delay).toFixed(3)} ms`);
        }
      }
      this.schedule(this.now + delay, { type: 'app', msg: c.copy });
    }
  }

  /**
   * Proposes on `node`'s consensus core (refused unless it leads); the wall
   * clock is true time in µs. Returns each command's log index (null: refused).
   */
  propose(node: SimNode, commands: readonly ClusterCommand[]): (number | null)[] {
    const raft = node.raft;
    if (raft === null || commands.length === 0) return commands.map(() => null);
    const indexes = commands.map((cmd) => {
      const res = raft.propose(encodeCommand({ cmd, actor: node.id, at: Math.floor(this.now * 1000) }), this.localNow(node));
      if (this.tracing) this.trace(node.id, `propose ${describeCommand(cmd)} -> ${res.ok ? `${res.index}/${res.term}` : res.code}`);
      return res.ok ? res.index : null;
    });
    this.host.touched(node);
    return indexes;
  }

  /** The node's applied cluster database, as the planner and the controller read it (empty before any command). */
  committed(node: SimNode): Committed {
    const db = node.sm.db;
    if (db === null) return EMPTY;
    const cached = this.committedCache.get(node.id);
    if (cached?.db === db && cached.version === db.version) return cached.state;
    const state: Committed = {
      nodes: db.listNodes(),
      groups: db.listGroups(),
      resources: db.listResources(),
      placements: db.listPlacements(),
      resourceStates: db.listResourceStates(),
      resourceRequests: db.listResourceRequests(),
    };
    this.committedCache.set(node.id, { db, version: db.version, state });
    return state;
  }

  /** The leader's agent plans again at local `local` (a timer: not before, maybe a little late). */
  wakeAgent(node: SimNode, local: number): void {
    this.schedule(this.timerAt(node, local), { type: 'agent-plan', node: node.id, life: node.life });
  }

  toAgent(node: SimNode, life: number, input: LocalInput): void {
    this.schedule(this.now, { type: 'to-agent', node: node.id, life, input });
  }

  /** A process began: it may die by itself later. */
  processStarted(node: SimNode, life: number, pid: number, resource: string): void {
    this.stats.processStarts++;
    if (this.params.failEveryMs === Infinity) return;
    this.schedule(this.now + this.rng.exp(this.params.failEveryMs), { type: 'process-dies', node: node.id, life, pid, resource });
  }

  // ---- Events ----------------------------------------------------------------

  dispatch(ev: ResEvent): void {
    if (ev.type === 'pause') return this.pause(ev.kind);
    const id = ev.type === 'app' ? ev.msg.to : ev.node;
    const node = this.host.nodes.get(id);
    if (node === undefined || !node.up) return;
    const procs = ev.type === 'app' ? this.procsOf(id, node.life) : this.procsOf(id, ev.life);
    if (procs === null) return;
    switch (ev.type) {
      case 'agent-tick':
        if (this.agentPaused(node, ev)) return;
        procs.agent.tick();
        this.schedule(this.timerAt(node, this.localNow(node) + this.params.timing.heartbeatIntervalMs), ev);
        return this.host.touched(node);
      case 'agent-plan':
        if (this.agentPaused(node, ev)) return;
        procs.agent.replan();
        return this.host.touched(node);
      case 'app':
        if (!this.host.network.deliverable(ev.msg)) return;
        if (this.agentPaused(node, ev)) return;
        if (this.tracing) this.trace(id, `recv ${describeApp(ev.msg)}${this.late.has(ev.msg) ? ' (held up)' : ''}`);
        procs.agent.onMessage(ev.msg);
        if (ev.msg.kind === 'lease-grant') this.maybeIsolate(node, ev.msg);
        return this.host.touched(node);
      case 'to-agent':
        if (this.agentPaused(node, ev)) return;
        procs.agent.onLocal(ev.input);
        return this.host.touched(node);
      case 'monitor-begin':
        return procs.monitor.begin(ev.opId);
      case 'monitor-done':
        return procs.monitor.done(ev.opId);
      case 'health-check':
        return procs.monitor.check(ev.group, ev.resource);
      case 'guard-lease':
        return procs.guard.onLease(ev.lease);
      case 'guard-fire':
        return procs.guard.fire(ev.gen);
      case 'guard-killed':
        return procs.guard.killed(ev.group, ev.deadline);
      case 'process-dies': {
        const p = this.world.process(id, ev.resource);
        if (p?.pid !== ev.pid || this.phase !== 'safety') return;
        this.stats.processDeaths++;
        this.world.end(id, ev.resource, this.now);
        if (this.tracing) this.trace(id, `resource ${ev.resource} died`);
        this.schedule(this.now + this.rng.float(0, this.params.detectMaxMs), { type: 'health-check', node: id, life: ev.life, group: p.group, resource: ev.resource });
        return;
      }
    }
  }

  /** Right after a grant listing groups the node may be cut off from everyone. */
  private maybeIsolate(node: SimNode, msg: Extract<AppMessage, { kind: 'lease-grant' }>): void {
    if (this.phase !== 'safety' || msg.grant.groups.length === 0 || !this.rng.chance(this.params.isolateOnGrantProb)) return;
    this.host.network.isolate(node.id, this.host.allIds());
    this.stats.isolations++;
    this.trace('net', `isolate ${node.id} right after a grant of ${msg.grant.groups.map((p) => p.group).join(',')}`);
  }

  /** True time at which a timer set for local time `local` fires: not before, perhaps a little late. */
  private timerAt(node: SimNode, local: number): number {
    return Math.max(this.now, node.clock.trueNotBefore(local)) + this.rng.float(0, this.host.params.timerLateMaxMs);
  }

  /** While the agent is paused, its events wait for the resume (in order). */
  private agentPaused(node: SimNode, ev: ResEvent): boolean {
    if (node.agentPausedUntil <= this.now) return false;
    this.schedule(node.agentPausedUntil, ev);
    return true;
  }

  private pauseEvery(kind: PauseKind): number {
    const p = this.params;
    return kind === 'agent' ? p.agentPauseEveryMs : kind === 'monitor' ? p.monitorPauseEveryMs : kind === 'guard' ? p.guardPauseEveryMs : p.nodePauseEveryMs;
  }

  /** Pauses one process (or a whole node) of a random up node. Guard and node pauses last at most λ (A2, A3). */
  private pause(kind: PauseKind): void {
    if (this.phase !== 'safety') return;
    this.schedule(this.now + this.rng.exp(this.pauseEvery(kind)), { type: 'pause', kind });
    const up = this.host.upNodes();
    if (up.length === 0) return;
    const node = this.rng.pick(up);
    const procs = this.procsOf(node.id, node.life);
    if (procs === null) return;
    const p = this.params;
    const lambda = p.timing.guardLatencyMs;
    const ms = this.rng.float(0, kind === 'agent' ? p.agentPauseMaxMs : kind === 'monitor' ? p.monitorPauseMaxMs : lambda);
    const until = this.now + ms;
    this.stats.pauses++;
    if (kind === 'agent' || kind === 'node') node.agentPausedUntil = Math.max(node.agentPausedUntil, until);
    if (kind === 'monitor' || kind === 'node') procs.monitor.pausedUntil = Math.max(procs.monitor.pausedUntil, until);
    if (kind === 'guard' || kind === 'node') procs.guard.pausedUntil = Math.max(procs.guard.pausedUntil, until);
    if (this.tracing) this.trace(node.id, `pause ${kind} for ${ms.toFixed(3)} ms`);
  }

  // ---- Liveness ------------------------------------------------------------

  /**
   * True once every group that may run on some healed node runs there
   * whole: each of its resources has a process on that one node.
   */
  groupsUp(healed: ReadonlySet<NodeId>): boolean {
    if (this.converged) return true;
    if (this.stuckGroups(healed).length > 0) return false;
    this.converged = true;
    this.stats.groupsConvergedMs = this.now - this.host.params.safetyMs;
    return true;
  }

  /** Groups not (yet) running whole on a healed node, with where their resources run. */
  stuckGroups(healed: ReadonlySet<NodeId>): string[] {
    const out: string[] = [];
    for (const g of this.params.groups) {
      const owners = [...healed].filter((id) => g.possibleOwners.length === 0 || g.possibleOwners.includes(id));
      if (owners.length === 0) continue;
      const whole = owners.some((id) => g.resources.every((r) => this.world.process(id, r.name) !== undefined));
      if (whole) continue;
      const where = g.resources.map((r) => `${r.name}:${[...this.host.nodes.keys()].filter((id) => this.world.process(id, r.name) !== undefined).join('+') || '-'}`);
      out.push(`${g.name}(${where.join(' ')})`);
    }
    return out;
  }
}

const EMPTY: Committed = { nodes: [], groups: [], resources: [], placements: [], resourceStates: [], resourceRequests: [] };

function describeApp(m: AppMessage): string {
  const head = `${m.kind} ${m.from}->${m.to}`;
  switch (m.kind) {
    case 'lease-req':
      return `${head} seq=${m.req.seq} held=${m.req.held.map((p) => `${p.group}@${p.epoch}`).join(',') || '-'}`;
    case 'lease-grant':
      return `${head} seq=${m.grant.seq} L=${m.grant.leaseMs} groups=${m.grant.groups.map((p) => `${p.group}@${p.epoch}`).join(',') || '-'}`;
    case 'propose':
      return `${head} ${m.commands.map(describeCommand).join('; ')}`;
    case 'order':
      return `${head} ${m.order.kind} ${m.order.resource}@${m.order.epoch}`;
  }
}

function describeCommand(c: ClusterCommand): string {
  switch (c.type) {
    case 'placement.set':
      return `placement.set ${c.group} -> ${c.node ?? '-'} (from epoch ${c.expectedEpoch ?? '?'})`;
    case 'resourceState.set':
      return `resourceState.set ${c.resource}=${c.state}@${c.epoch ?? '?'}`;
    default:
      return c.type;
  }
}
