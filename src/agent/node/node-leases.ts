// Node leases in the agent (safety rules 1, 2, 3, 7, 8): every node, the
// leader too, asks the leader for a renewal each heartbeat interval with its
// LeaseHolder; the leader answers with the lease granter of its
// LeaderController (one per term, which also plans placements). Requests
// and grants travel on the `lease` peer channel on the control lane, sent
// at once, never behind a disk write. Grants carry the committed (group,
// epoch) placements of each node; every change goes to the groups' runner
// (onChange), which starts and stops groups. A node cut off from the
// leader loses its lease, logs "lease lost", and its status says so.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NodeId, RaftStatus } from '../consensus/types.js';
import { LeaderController } from '../core/controller-leader.js';
import type { Placement } from '../core/lease-granter.js';
import { LeaseHolder } from '../core/lease-holder.js';
import type { LeaseChange } from '../core/lease-holder.js';
import type { LeaseTiming } from '../core/lease-config.js';
import type { GroupEpoch, LeaseGrant, LeaseRequest } from '../core/lease-messages.js';
import type { Logger } from './logger.js';
import type { ChannelEndpoint } from './peer-channels.js';
import { isObject } from './state-files.js';

export interface NodeLeasesOptions {
  nodeId: NodeId;
  timing: LeaseTiming;
  endpoint: ChannelEndpoint;
  /** The consensus status now; null while this node is in no cluster. */
  raftStatus: () => RaftStatus | null;
  /** Committed placements from the applied database (rule 2). */
  placements: () => ReadonlyMap<string, Placement>;
  /** Grants go only to nodes of the cluster database. */
  isClusterNode: (id: NodeId) => boolean;
  log: Logger;
  /** After every call into the lease holder: its change (often empty); the holder's times are local performance.now() ms. */
  onChange?: (change: LeaseChange) => void;
}

type LeaseEnvelope =
  | { t: 'req'; req: LeaseRequest; leaseRemainingMs: number | null }
  | { t: 'grant'; grant: LeaseGrant };

const now = (): number => performance.now();

/** A placement change asks for a renewal at once, but not more often than this, ms: a burst of commits makes one request. */
const EAGER_RENEWAL_GAP_MS = 5;

export class NodeLeases {
  private readonly holder: LeaseHolder;
  private granter: { term: number; leader: LeaderController } | null = null;
  /** Leader: what each holder last said about its own lease, and when (local ms) that was heard. */
  private readonly reported = new Map<NodeId, { remainingMs: number | null; heardAt: number }>();
  private holding = false;
  /** Local ms of the last renewal request. */
  private lastRenewalAt = -Infinity;
  private timing: LeaseTiming;

  constructor(private readonly options: NodeLeasesOptions) {
    this.timing = options.timing;
    this.holder = new LeaseHolder(options.nodeId, randomUUID(), options.timing);
    options.endpoint.onMessage((message, from) => this.receive(message, from));
  }

  /** New cluster properties: later grants use the new L. */
  setTiming(timing: LeaseTiming): void {
    this.timing = timing;
    this.granter?.leader.setTiming(timing);
  }

  /** Rule 3: before a leadership transfer, this leader grants nothing more in its term. */
  stopGranting(): void {
    this.granter?.leader.stopGranting();
  }

  /** The leader's controller (lease granter and placement planner) of this term; null when not leading. */
  leaderController(): LeaderController | null {
    return this.granter?.leader ?? null;
  }

  /** The holder's lease end and guard deadline, local performance.now() ms (-Infinity: none). */
  holderLease(): { until: number; guardDeadline: number } {
    return { until: this.holder.allowed(now()).until, guardDeadline: this.holder.guardDeadline() };
  }

  /** No process of the pair can exist any more: evidence for the leader (rule 4). */
  confirmStopped(pair: GroupEpoch): void {
    this.holder.onStopped(pair);
  }

  /** Ms left on this node's own lease; null when it holds none. */
  remainingMs(): number | null {
    const t = now();
    const until = this.holder.allowed(t).until;
    return t < until ? until - t : null;
  }

  /** Leader: ms left on `node`'s lease as it last reported it, aged by the time since; null when unknown. */
  reportedRemainingMs(node: NodeId): number | null {
    if (node === this.options.nodeId) return this.remainingMs();
    const r = this.reported.get(node);
    if (!r || r.remainingMs === null) return null;
    return Math.max(0, r.remainingMs - (now() - r.heardAt));
  }

  /** One renewal round: the agent calls it every heartbeat interval. */
  tick(): void {
    this.noteChange(this.holder.tick(now()));
    this.renew();
  }

  /**
   * After the applied database changed: when this node's committed
   * placements differ from what its lease carries (a group placed here, or
   * moved away), a renewal is asked for at once rather than at the next
   * heartbeat tick (up to h later), so a start or a stop waits one round
   * trip. The request is an ordinary renewal, anchored when it leaves (rule 1).
   */
  onPlacementsChanged(): void {
    const t = now();
    if (t - this.lastRenewalAt < EAGER_RENEWAL_GAP_MS) return;
    const held = new Set(this.holder.allowed(t).groups.map((p) => `${p.group}@${p.epoch}`));
    const placed = new Set<string>();
    for (const [group, p] of this.options.placements()) if (p.node === this.options.nodeId) placed.add(`${group}@${p.epoch}`);
    if (placed.size !== held.size || [...placed].some((pair) => !held.has(pair))) this.renew();
  }

  private renew(): void {
    const status = this.options.raftStatus();
    if (!status) return;
    this.refreshGranter(status);
    const leader = status.leader;
    if (leader === null || !status.membership.members.some((m) => m.id === this.options.nodeId)) return;
    // Rule 1: the anchor is read before the request leaves.
    this.lastRenewalAt = now();
    const req = this.holder.requestRenewal(this.lastRenewalAt);
    if (leader === this.options.nodeId) {
      const grant = this.decide(req);
      if (grant) this.applyGrant(grant);
      return;
    }
    const envelope: LeaseEnvelope = { t: 'req', req, leaseRemainingMs: this.remainingMs() };
    this.options.endpoint.send(leader, envelope, 'control');
  }

  private refreshGranter(status: RaftStatus): void {
    if (status.role !== 'leader') {
      this.granter = null;
      return;
    }
    if (this.granter?.term === status.term) return;
    // Read after becoming leader, so the settling period starts late: never too early.
    this.granter = { term: status.term, leader: new LeaderController({ timing: this.timing, now: now() }) };
    this.reported.clear();
  }

  private receive(message: object, from: NodeId): void {
    const envelope = parseEnvelope(message);
    if (!envelope) {
      this.options.log.debug('malformed lease message dropped', { from });
      return;
    }
    if (envelope.t === 'grant') {
      if (envelope.grant.to === this.options.nodeId) this.applyGrant(envelope.grant);
      return;
    }
    // A request must come from the peer its connection authenticated as.
    if (envelope.req.from !== from || !this.options.isClusterNode(from)) return;
    this.reported.set(from, { remainingMs: envelope.leaseRemainingMs, heardAt: now() });
    const status = this.options.raftStatus();
    if (status) this.refreshGranter(status);
    const grant = this.decide(envelope.req);
    if (grant) this.options.endpoint.send(from, { t: 'grant', grant } satisfies LeaseEnvelope, 'control');
  }

  private decide(req: LeaseRequest): LeaseGrant | null {
    const leader = this.granter?.leader;
    const status = this.options.raftStatus();
    if (!leader || !status) return null;
    // Rule 8: the leader lease is read at the decision.
    const decision = leader.onRequest(req, this.options.placements(), status.leaderLeaseUntil, now());
    return decision.ok ? decision.grant : null;
  }

  private applyGrant(grant: LeaseGrant): void {
    this.noteChange(this.holder.onGrant(grant, now()));
  }

  /** Logs lease changes and hands them to the groups' runner. */
  private noteChange(change: LeaseChange): void {
    for (const pair of change.stop) this.options.log.warn('group must stop: not in the lease any more', { ...pair });
    for (const pair of change.start) this.options.log.info('group allowed by lease', { ...pair });
    const holding = this.remainingMs() !== null;
    if (this.holding && !holding) this.options.log.warn('lease lost', { leaseMs: this.timing.nodeLeaseMs });
    if (!this.holding && holding) this.options.log.info('lease granted', { remainingMs: Math.round(this.remainingMs() ?? 0) });
    this.holding = holding;
    this.options.onChange?.(change);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isPairs(v: unknown): v is GroupEpoch[] {
  return Array.isArray(v) && v.every((p) => isObject(p) && typeof p.group === 'string' && isCount(p.epoch));
}

function parseEnvelope(m: object): LeaseEnvelope | null {
  const e = m as Record<string, unknown>;
  if (e.t === 'req' && isObject(e.req)) {
    const r = e.req;
    const remaining = e.leaseRemainingMs;
    if (typeof r.from === 'string' && typeof r.session === 'string' && isCount(r.seq) && isCount(r.appliedSeq)
      && isPairs(r.held) && isPairs(r.stopped) && (remaining === null || (typeof remaining === 'number' && Number.isFinite(remaining)))) {
      return { t: 'req', req: r as unknown as LeaseRequest, leaseRemainingMs: remaining };
    }
  }
  if (e.t === 'grant' && isObject(e.grant)) {
    const g = e.grant;
    if (typeof g.to === 'string' && typeof g.session === 'string' && isCount(g.seq) && typeof g.leaseMs === 'number'
      && Number.isFinite(g.leaseMs) && g.leaseMs > 0 && isPairs(g.groups)) {
      return { t: 'grant', grant: g as unknown as LeaseGrant };
    }
  }
  return null;
}
