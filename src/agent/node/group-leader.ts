// The leader's group duties each heartbeat tick: turn what administrators
// asked (the groups' `desired`, `move` and `cleanupRequest` in the applied
// database) into intents for the placement planner, run the leader
// controller over the committed state and the liveness view, propose its
// placement.set decisions (one in flight per group; the planner put the
// expected epoch in each), and send restart and stop orders to the groups'
// owners. Nodes' resource state reports come here to be proposed.
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../consensus/types.js';
import type { OwnerOrder, ResourceReport } from '../core/controller-io.js';
import type { LeaderController } from '../core/controller-leader.js';
import type { LivenessView } from '../core/membership.js';
import type { AdminIntent } from '../core/placement-decisions.js';
import type { ClusterCommand } from '../db/commands.js';
import type { ClusterDatabase } from '../db/database.js';
import type { GroupRecord, PlacementRecord } from '../db/schema.js';
import type { Logger } from './logger.js';

export interface GroupLeaderOptions {
  /** This node: placements are proposed in its name. */
  nodeId: NodeId;
  log: Logger;
  leader: () => LeaderController | null;
  db: () => ClusterDatabase | null;
  liveness: () => LivenessView;
  /** Proposes as `actor` (a node id); rejects when refused or not leader. */
  propose: (cmd: ClusterCommand, actor: string) => Promise<unknown>;
  sendOrder: (node: NodeId, order: OwnerOrder) => void;
}

/** How soon after a database change the leader plans again, ms: long enough to gather a burst of commits. */
const DATABASE_TICK_DELAY_MS = 2;

export class GroupLeader {
  private controller: LeaderController | null = null;
  /** group → what its intent was last derived from: intents go to the planner only when that changes. */
  private readonly seen = new Map<string, string>();
  private readonly cleanupSeen = new Map<string, number>();
  /** resource → its last report (state, node, epoch) and that report's proposal: the next one waits for it. */
  private readonly reportChains = new Map<string, { report: string; done: Promise<void> }>();
  /** Groups with a placement proposal in flight. */
  private readonly inFlight = new Set<string>();
  /** Refusals already logged, by text. */
  private readonly refusalsLogged = new Set<string>();
  /** An extra tick: when a wait lapses (the controller's wakeAt) or soon after the database changed. */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly options: GroupLeaderOptions) {}

  /**
   * The applied database changed (a stop confirmed, a resource reported,
   * an administrator's request): plan again within a few ms instead of at
   * the next heartbeat. Bursts of commits share one tick.
   */
  onDatabaseChange(): void {
    if (this.controller !== null) this.tickAt(performance.now() + DATABASE_TICK_DELAY_MS);
  }

  /** Stops the extra tick timer (the agent is stopping). */
  close(): void {
    if (this.wake !== null) clearTimeout(this.wake.timer);
    this.wake = null;
  }

  /** Every heartbeat interval, on every node (and at wake-ups): acts only while this node leads. */
  tick(): void {
    const controller = this.options.leader();
    const db = this.options.db();
    if (controller !== this.controller) {
      // A new term: its planner knows nothing yet, so every group's intent is derived afresh.
      this.controller = controller;
      this.seen.clear();
      this.cleanupSeen.clear();
      this.refusalsLogged.clear();
      // A proposal of an earlier term may never settle: it must not hold back this term's reports.
      this.reportChains.clear();
    }
    if (controller === null || db === null) return;
    const placements = new Map(db.listPlacements().map((p) => [p.group, p]));
    const groups = db.listGroups();
    for (const g of groups) for (const intent of this.intentsOf(g, placements.get(g.name))) controller.intend(intent);
    const now = performance.now();
    const actions = controller.tick({
      now,
      wallHour: new Date().getHours(),
      committed: { nodes: db.listNodes(), groups, resources: db.listResources(), placements: [...placements.values()], resourceStates: db.listResourceStates() },
      appliedIndex: db.appliedIndex,
      liveness: this.options.liveness().states(now),
    });
    for (const d of actions.decisions) {
      if (d.kind !== 'refused') continue;
      // Asked again next tick: a node that cannot take the group now may later.
      this.seen.delete(d.intent.group);
      const text = `${JSON.stringify(d.intent)}: ${d.problems.map((p) => p.message).join('; ')}`;
      if (this.refusalsLogged.has(text)) continue;
      this.refusalsLogged.add(text);
      this.options.log.warn('the planner refused an intent', { intent: d.intent, problems: d.problems });
    }
    for (const cmd of actions.propose) this.proposePlacement(cmd);
    for (const { node, order } of actions.orders) this.options.sendOrder(node, order);
    if (actions.wakeAt !== null) this.tickAt(actions.wakeAt);
  }

  /** One extra tick at local ms `at`, unless one comes sooner. */
  private tickAt(at: number): void {
    if (this.wake !== null && this.wake.at <= at) return;
    if (this.wake !== null) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = null;
      this.tick();
    }, Math.max(0, at - performance.now()));
    timer.unref();
    this.wake = { at, timer };
  }

  /**
   * A node's report, proposed in its name; it may report only about itself.
   * A resource's reports are proposed one after another: each is checked
   * against the applied state, so an Online sent right behind its
   * OnlinePending would be refused (and resent by the node only a retry
   * period later) if proposed before that one applied. A report that
   * repeats the one queued last for its resource (a node resends what the
   * database does not show yet, and under load that is most of them) adds
   * nothing and is dropped instead of becoming another log entry.
   */
  onReport(cmd: ResourceReport, from: NodeId): void {
    if (cmd.node !== from || this.controller === null) return;
    const report = `${cmd.state}@${cmd.node}#${cmd.epoch}`;
    const last = this.reportChains.get(cmd.resource);
    if (last?.report === report) return;
    const done = (last?.done ?? Promise.resolve()).then(() => this.options.propose(cmd, from)).then(
      () => undefined,
      (err: unknown) => this.options.log.debug('resource state report not applied', { err, resource: cmd.resource, state: cmd.state }),
    );
    const entry = { report, done };
    this.reportChains.set(cmd.resource, entry);
    void done.then(() => {
      if (this.reportChains.get(cmd.resource) === entry) this.reportChains.delete(cmd.resource);
    });
  }

  private proposePlacement(cmd: ClusterCommand): void {
    if (cmd.type !== 'placement.set' || this.inFlight.has(cmd.group)) return;
    this.inFlight.add(cmd.group);
    this.options.log.info('placing group', { group: cmd.group, node: cmd.node, expectedEpoch: cmd.expectedEpoch });
    this.options.propose(cmd, this.options.nodeId)
      .catch((err: unknown) => this.options.log.warn('placement not committed', { err, group: cmd.group }))
      .finally(() => this.inFlight.delete(cmd.group));
  }

  /** The intents the group's records ask for, when they changed since last looked at. */
  private intentsOf(g: GroupRecord, p: PlacementRecord | undefined): AdminIntent[] {
    const node = p?.node ?? null;
    const key = JSON.stringify([g.desired, g.move, node, p?.epoch ?? 0]);
    const intents: AdminIntent[] = [];
    const cleanup = this.cleanupSeen.get(g.name);
    this.cleanupSeen.set(g.name, g.cleanupRequest);
    if (cleanup !== undefined && g.cleanupRequest > cleanup) intents.push({ kind: 'cleanup', group: g.name });
    if (this.seen.get(g.name) === key) return intents;
    this.seen.set(g.name, key);
    if (g.desired === 'offline') {
      if (node !== null) intents.push({ kind: 'offline', group: g.name });
    } else if (g.move !== null) {
      const pending = g.move.to !== null ? node !== g.move.to : node === null || node === g.move.from;
      if (pending) intents.push({ kind: 'move', group: g.name, ...(g.move.to !== null ? { node: g.move.to } : {}) });
    } else if (node === null) {
      intents.push({ kind: 'online', group: g.name });
    }
    return intents;
  }
}
