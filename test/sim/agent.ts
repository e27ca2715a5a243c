// The simulated agent's resource side on one node: the real LeaseHolder
// and NodeController, and while the node leads, the real LeaderController
// (lease granter and placement planner). It does what the agent's shell
// does: renews the lease every heartbeat interval, answers renewals when
// leading, carries the controller's actions to the guard, the monitor, the
// leader and the holder, and feeds it the applied database. It decides
// nothing itself. Consensus runs in the same (simulated) process: pausing
// the agent pauses both.
import type { NodeId } from '../../src/agent/consensus/types.js';
import type { ControllerView, GuardEvent, MonitorEvent, NodeActions, OwnerOrder } from '../../src/agent/core/controller-io.js';
import { LeaderController, grantablePlacements } from '../../src/agent/core/controller-leader.js';
import type { LeaseBugs } from '../../src/agent/core/controller-leader.js';
import { NodeController } from '../../src/agent/core/controller-node.js';
import { LeaseHolder } from '../../src/agent/core/lease-holder.js';
import type { LeaseChange } from '../../src/agent/core/lease-holder.js';
import type { LeaseGrant, LeaseRequest } from '../../src/agent/core/lease-messages.js';
import { LivenessView } from '../../src/agent/core/membership.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import type { SimNode } from './node.js';
import type { ResourceSim } from './resource-sim.js';

export type AppMessage =
  | { kind: 'lease-req'; from: NodeId; to: NodeId; req: LeaseRequest }
  | { kind: 'lease-grant'; from: NodeId; to: NodeId; grant: LeaseGrant }
  /** To the leader: propose these for me. */
  | { kind: 'propose'; from: NodeId; to: NodeId; commands: ClusterCommand[] }
  | { kind: 'order'; from: NodeId; to: NodeId; order: OwnerOrder };

/** From the node's monitor or guard, over their local connections. */
export type LocalInput = { from: 'monitor'; ev: MonitorEvent } | { from: 'guard'; ev: GuardEvent };

/** Planted bugs of the agent's lease handling, and of the leader's (passed to LeaderController). */
export interface AgentBugs extends LeaseBugs {
  /** The holder's lease runs from when the grant arrived, not from when the request left. */
  anchorAtReceipt?: boolean;
}

export class SimAgent {
  readonly holder: LeaseHolder;
  readonly controller: NodeController;
  readonly liveness: LivenessView;
  private leading: { term: number; ctl: LeaderController } | null = null;
  /** The applied database last given to the controller: object and version. */
  private seen: { db: object; version: number } | null = null;
  /** anchorAtReceipt: the newest grant applied, by the seq the leader gave it. */
  private grantSeq = 0;
  /** Local ms of the extra plan the leader asked for (a wait lapsing); null: none pending. */
  private planAt: number | null = null;
  /** While leading: each resource's reports waiting for the one before to apply (GroupLeader's chains). */
  private readonly reportChains = new Map<string, { waitIndex: number | null; queue: ClusterCommand[] }>();

  constructor(
    private readonly sim: ResourceSim,
    readonly node: SimNode,
    private readonly bugs: AgentBugs,
  ) {
    const timing = sim.params.timing;
    this.holder = new LeaseHolder(node.id, `${node.id}.${node.life}`, timing);
    this.controller = new NodeController({ node: node.id, timing });
    this.liveness = new LivenessView(sim.params.liveness);
  }

  private get now(): number {
    return this.sim.localNow(this.node);
  }

  /** Every heartbeat interval: expiry, the applied database, resent reports, the leader's plan, a renewal. */
  tick(): void {
    const now = this.now;
    this.liveness.observe(this.node.id, now);
    this.leaseChanged(this.holder.tick(now));
    this.syncCommitted();
    this.exec(this.controller.tick(now));
    const st = this.node.raft?.status();
    if (st === undefined) return;
    this.lead(st.role === 'leader' ? st.term : null);
    if (st.role !== 'leader') this.reportChains.clear();
    for (const resource of [...this.reportChains.keys()]) this.pumpReports(resource);
    if (st.leader === null || !st.membership.members.some((m) => m.id === this.node.id)) return;
    // Rule 1: the anchor is read before the request leaves.
    const req = this.holder.requestRenewal(this.now);
    if (this.bugs.anchorAtReceipt) req.appliedSeq = this.grantSeq;
    if (st.leader === this.node.id) this.answer(req);
    else this.sim.send({ kind: 'lease-req', from: this.node.id, to: st.leader, req });
  }

  onMessage(msg: AppMessage): void {
    this.liveness.observe(msg.from, this.now);
    switch (msg.kind) {
      case 'lease-req':
        return this.answer(msg.req);
      case 'lease-grant':
        return this.applyGrant(msg.grant);
      case 'propose':
        this.leaderTakes(msg.commands);
        return;
      case 'order':
        return this.exec(this.controller.onOrder(msg.order, this.now));
    }
  }

  onLocal(input: LocalInput): void {
    const now = this.now;
    this.exec(input.from === 'monitor' ? this.controller.onMonitor(input.ev, now) : this.controller.onGuard(input.ev, now));
  }

  /** The leader's extra plan, when a wait it reported lapses. */
  replan(): void {
    this.planAt = null;
    const st = this.node.raft?.status();
    if (st?.role === 'leader') this.lead(st.term);
  }

  /** Follows leadership: a LeaderController per term led, read after becoming leader. */
  private lead(term: number | null): void {
    if (term === null) {
      this.leading = null;
      return;
    }
    if (this.leading?.term !== term) {
      const ctl = new LeaderController({ timing: this.sim.params.timing, now: this.now, bugs: this.bugs });
      this.leading = { term, ctl };
      this.sim.trace(this.node.id, `leads term ${term}: lease granter settles until ${ctl.granter.settledAt.toFixed(3)}`);
    }
    const ctl = this.leading.ctl;
    const committed = this.sim.committed(this.node);
    this.sim.admin.leading(this, ctl, committed);
    const now = this.now;
    const actions = ctl.tick({ now, wallHour: 0, committed, appliedIndex: this.node.appliedIndex, liveness: this.liveness.states(now) });
    if (this.sim.tracing) {
      for (const d of actions.decisions) if (d.kind === 'refused') this.sim.trace(this.node.id, `planner refused ${JSON.stringify(d.intent)}: ${d.problems.map((p) => p.code).join(',')}`);
    }
    const indexes = this.sim.propose(this.node, actions.propose);
    actions.propose.forEach((cmd, i) => ctl.proposed(cmd, indexes[i] ?? null));
    if (actions.wakeAt !== null && (this.planAt === null || actions.wakeAt < this.planAt)) {
      this.planAt = actions.wakeAt;
      this.sim.wakeAgent(this.node, actions.wakeAt);
    }
    for (const { node, order } of actions.orders) {
      if (node === this.node.id) this.exec(this.controller.onOrder(order, now));
      else this.sim.send({ kind: 'order', from: this.node.id, to: node, order });
    }
  }

  /** Leader: a renewal request, answered at once (rule 7) if this node leads and holds its leader lease. */
  private answer(req: LeaseRequest): void {
    const st = this.node.raft?.status();
    const committed = this.sim.committed(this.node);
    // Only the granter made for the term led now: a later term settles anew.
    const ctl = this.leading !== null && st?.role === 'leader' && this.leading.term === st.term ? this.leading.ctl : undefined;
    if (ctl === undefined || st === undefined) return;
    // Rule 8: the leader lease is read at the decision.
    const decision = ctl.onRequest(req, grantablePlacements(committed.placements), st.leaderLeaseUntil, this.now);
    if (!decision.ok) return;
    if (req.from === this.node.id) this.applyGrant(decision.grant);
    else this.sim.send({ kind: 'lease-grant', from: this.node.id, to: req.from, grant: decision.grant });
  }

  private applyGrant(grant: LeaseGrant): void {
    const now = this.now;
    if (!this.bugs.anchorAtReceipt) return this.leaseChanged(this.holder.onGrant(grant, now));
    // The planted bug, through the holder's own API: a request made now
    // lends its anchor (the time of receipt) to the grant.
    if (grant.to !== this.node.id || grant.session !== this.holder.session || grant.seq <= this.grantSeq) return;
    this.grantSeq = grant.seq;
    const fresh = this.holder.requestRenewal(now);
    this.leaseChanged(this.holder.onGrant({ ...grant, seq: fresh.seq }, now));
  }

  private leaseChanged(change: LeaseChange): void {
    const now = this.now;
    if (this.sim.tracing && (change.start.length > 0 || change.stop.length > 0)) {
      const pairs = (ps: LeaseChange['start']): string => ps.map((p) => `${p.group}@${p.epoch}`).join(',');
      this.sim.trace(this.node.id, `lease until ${this.holder.allowed(now).until.toFixed(3)}: start ${pairs(change.start) || '-'} stop ${pairs(change.stop) || '-'}`);
    }
    const lease = { until: this.holder.allowed(now).until, guardDeadline: this.holder.guardDeadline() };
    this.exec(this.controller.onLease(change, lease, now));
  }

  private syncCommitted(): void {
    const db = this.node.sm.db;
    if (db === null || (this.seen?.db === db && this.seen.version === db.version)) return;
    this.seen = { db, version: db.version };
    const committed = this.sim.committed(this.node);
    // Every node keeps its liveness view of the database's nodes, so a new leader knows who it heard lately.
    this.liveness.setMembers(committed.nodes.map((n) => ({ id: n.id, paused: n.paused, joining: false })));
    const view: ControllerView = committed;
    this.exec(this.controller.onCommitted(view, this.now));
  }

  /** The controller's duties (NodeActions), in order. */
  private exec(a: NodeActions): void {
    const sim = this.sim;
    if (a.guard !== null) sim.guardOf(this.node)?.receive(a.guard);
    const monitor = sim.monitorOf(this.node);
    for (const op of a.monitor) {
      if (sim.tracing) sim.trace(this.node.id, `monitor ${op.kind} ${op.resource} (${op.group}@${op.epoch}, op ${op.id}${op.notAfter !== null ? `, not after ${op.notAfter.toFixed(3)}` : ''})`);
      monitor?.receive(op);
    }
    if (a.reports.length > 0) this.toLeader(a.reports);
    for (const pair of a.stopped) {
      if (sim.tracing) sim.trace(this.node.id, `stopped ${pair.group}@${pair.epoch}`);
      this.holder.onStopped(pair);
    }
  }

  /**
   * A report as the agent's leader takes one (GroupLeader): a resource's
   * reports are proposed one at a time, each once the one before it is
   * applied and only if the applied state allows it. A node resends its
   * path of states until its own database shows the last, so under slow
   * replication most reports are repeats of ones still in the log; checked
   * against the applied state they are refused instead of becoming log
   * entries (proposed straight away, they outgrew the commit rate: seed
   * 551055497).
   */
  private leaderTakes(commands: readonly ClusterCommand[]): void {
    const others = commands.filter((cmd) => cmd.type !== 'resourceState.set');
    if (others.length > 0) this.sim.propose(this.node, others);
    for (const cmd of commands) {
      if (cmd.type !== 'resourceState.set') continue;
      const chain = this.reportChains.get(cmd.resource) ?? { waitIndex: null, queue: [] };
      chain.queue.push(cmd);
      this.reportChains.set(cmd.resource, chain);
      this.pumpReports(cmd.resource);
    }
  }

  /** Proposes the next report of `resource` once the one before it is applied; drops what the applied state refuses. */
  private pumpReports(resource: string): void {
    const chain = this.reportChains.get(resource);
    const db = this.node.sm.db;
    if (chain === undefined || db === null) return;
    while (chain.queue.length > 0) {
      if (chain.waitIndex !== null && db.appliedIndex < chain.waitIndex) return;
      const cmd = chain.queue.shift() as ClusterCommand;
      if (db.validate({ cmd, actor: this.node.id, at: Math.floor(this.sim.now * 1000) }).some((r) => r.severity === 'error')) continue;
      chain.waitIndex = this.sim.propose(this.node, [cmd])[0] ?? null;
      if (chain.waitIndex === null) chain.queue.length = 0;
    }
    if (chain.waitIndex === null || db.appliedIndex >= chain.waitIndex) this.reportChains.delete(resource);
  }

  /** Reports go to the leader this node knows of; one lost on the way is sent again by the controller. */
  private toLeader(commands: ClusterCommand[]): void {
    const leader = this.node.raft?.status().leader ?? null;
    if (leader === null) return;
    if (leader === this.node.id) this.leaderTakes(commands);
    else this.sim.send({ kind: 'propose', from: this.node.id, to: leader, commands });
  }
}
