// The leader's loop (safety rules 2 and 4): made when a node becomes
// leader, it answers lease requests with the lease granter, and on each
// tick feeds the placement planner the committed state, the liveness view
// and the granter's answers, turning the planner's decisions into
// placement proposals and orders for the groups' owners. The planner never
// places a group where the granter does not allow it yet; the granter only
// grants committed placements, within the leader lease.

import type { NodeId } from '../consensus/types.js';
import type { ClusterCommand } from '../db/commands.js';
import type { PlacementRecord } from '../db/schema.js';
import type { OwnerOrder } from './controller-io.js';
import { settlePeriodMs } from './lease-config.js';
import type { LeaseTiming } from './lease-config.js';
import { LeaseGranter } from './lease-granter.js';
import type { GrantDecision, Placement } from './lease-granter.js';
import type { LeaseRequest } from './lease-messages.js';
import type { NodeState } from './membership.js';
import type { AdminIntent, CommittedState, Decision } from './placement-decisions.js';
import { PlacementPlanner } from './placement-planner.js';

/**
 * Planted bugs, for the simulator to show that it catches each (like
 * RaftNode's). Never set outside tests.
 */
export interface LeaseBugs {
  /** G = L + ε: the settling period and hand-over wait ignore clock rate error. */
  settleWithoutRho?: boolean;
  /** The new leader grants at once, as if it had been elected G ago. */
  noSettlingAfterElection?: boolean;
}

export interface LeaderControllerOptions {
  timing: LeaseTiming;
  /** Local ms, read after this node became leader (late, so the settling period never ends early). */
  now: number;
  /** The largest L an earlier leader may have granted (default `timing.nodeLeaseMs`). */
  inheritedLeaseMs?: number;
  /**
   * ms before an order goes again, and before a proposal goes again that was
   * refused, or applied and still wanted (default E_min). A proposal in the
   * log waits for its apply instead: repeating it would only lengthen a log
   * that is slow already.
   */
  retryMs?: number;
  bugs?: LeaseBugs;
}

export interface LeaderInput {
  /** Local monotonic ms. */
  now: number;
  /** Hour of the day on the local wall clock (failback windows only). */
  wallHour: number;
  committed: CommittedState;
  /** Index of the last log entry `committed` reflects. */
  appliedIndex: number;
  /** `LivenessView.states(now)`. */
  liveness: readonly { node: NodeId; state: NodeState }[];
}

/**
 * The caller's duties: propose each command and say where it went
 * (`proposed`); send each order to its node's agent; tick again by `wakeAt`.
 */
export interface LeaderActions {
  propose: ClusterCommand[];
  orders: { node: NodeId; order: OwnerOrder }[];
  /** Every decision of this plan, waits and refusals included, for status. */
  decisions: Decision[];
  /**
   * Local ms at which a wait lapses by itself (a lease blocker, a restart
   * delay, a failover hold); null: none. Ticking then rather than at the
   * next heartbeat takes up to h off a failover.
   */
  wakeAt: number | null;
}

/** The committed placements a grant may carry: groups placed on a node. */
export function grantablePlacements(records: readonly PlacementRecord[]): Map<string, Placement> {
  const out = new Map<string, Placement>();
  for (const p of records) if (p.node !== null) out.set(p.group, { node: p.node, epoch: p.epoch });
  return out;
}

export class LeaderController {
  readonly granter: LeaseGranter;
  private readonly planner: PlacementPlanner;
  private readonly retryMs: number;
  private readonly bugs: LeaseBugs;
  private intents: AdminIntent[] = [];
  /** Orders sent, by key, and when (local ms): not repeated within retryMs. */
  private readonly sent = new Map<string, number>();
  /** Proposals by their JSON: when (local ms) and at which log index (null: not known, or refused). */
  private readonly proposals = new Map<string, { at: number; index: number | null }>();

  constructor(options: LeaderControllerOptions) {
    this.bugs = options.bugs ?? {};
    const timing = this.granterTiming(options.timing);
    const inherited = options.inheritedLeaseMs ?? timing.nodeLeaseMs;
    const electedAt = this.bugs.noSettlingAfterElection ? options.now - settlePeriodMs(timing, inherited) : options.now;
    this.granter = new LeaseGranter(timing, electedAt, inherited);
    this.planner = new PlacementPlanner();
    this.retryMs = options.retryMs ?? options.timing.electionTimeoutMinMs;
  }

  /** New cluster properties: later grants use the new L. */
  setTiming(timing: LeaseTiming): void {
    this.granter.setTiming(this.granterTiming(timing));
  }

  /** Rule 3: before a leadership transfer. */
  stopGranting(): void {
    this.granter.stopGranting();
  }

  onFenced(node: NodeId): void {
    this.granter.onFenced(node);
  }

  /** Answer a renewal at local `now`; `placements` from the applied state, `leaderLeaseUntil` read now. */
  onRequest(req: LeaseRequest, placements: ReadonlyMap<string, Placement>, leaderLeaseUntil: number, now: number): GrantDecision {
    return this.granter.onRequest(req, { placements, leaderLeaseUntil }, now);
  }

  /** Where a proposed command went: its log index, or null when the consensus core refused it. */
  proposed(command: ClusterCommand, index: number | null): void {
    const p = this.proposals.get(JSON.stringify(command));
    if (p !== undefined) p.index = index;
  }

  /** An administrator's intent, taken by the next plan. */
  intend(intent: AdminIntent): void {
    this.intents.push(intent);
  }

  tick(input: LeaderInput): LeaderActions {
    const { now } = input;
    const intents = this.intents;
    this.intents = [];
    const decisions = this.planner.plan({
      now,
      wallHour: input.wallHour,
      committed: input.committed,
      liveness: input.liveness,
      placeable: (group, node) => this.granter.placeableAt(group, node, now),
      intents,
    });
    for (const [key, at] of this.sent) if (now - at >= this.retryMs) this.sent.delete(key);
    const wanted = new Set<string>();
    const out: LeaderActions = { propose: [], orders: [], decisions, wakeAt: null };
    const wake = (at: number | null): void => {
      if (at !== null && at > now && (out.wakeAt === null || at < out.wakeAt)) out.wakeAt = at;
    };
    for (const d of decisions) {
      if (d.kind === 'wait') wake(d.why.reason === 'lease' ? d.why.until : d.why.reason === 'failover-threshold' ? d.why.retryAt : null);
      if (d.kind === 'restart') wake(d.at);
      if (d.kind === 'propose') {
        const key = JSON.stringify(d.command);
        wanted.add(key);
        const p = this.proposals.get(key);
        const waiting = p !== undefined && (now - p.at < this.retryMs || (p.index !== null && input.appliedIndex < p.index));
        if (waiting) continue;
        this.proposals.set(key, { at: now, index: null });
        out.propose.push(d.command);
      } else if (d.kind === 'restart') {
        if (now < d.at || !this.due(`restart:${d.resource}@${d.epoch}:${d.failedSince}`, now)) continue;
        out.orders.push({ node: d.node, order: { kind: 'restart', group: d.group, resource: d.resource, epoch: d.epoch, failedSince: d.failedSince } });
      } else if (d.kind === 'stop-resource') {
        if (!this.due(`stop:${d.resource}@${d.epoch}`, now)) continue;
        out.orders.push({ node: d.node, order: { kind: 'stop-resource', group: d.group, resource: d.resource, epoch: d.epoch } });
      }
    }
    for (const key of this.proposals.keys()) if (!wanted.has(key)) this.proposals.delete(key);
    return out;
  }

  private due(key: string, now: number): boolean {
    if (this.sent.has(key)) return false;
    this.sent.set(key, now);
    return true;
  }

  private granterTiming(timing: LeaseTiming): LeaseTiming {
    return this.bugs.settleWithoutRho ? { ...timing, clockRateBound: 0 } : timing;
  }
}
