// The leader side of node leases (safety rules 1, 2, 3, 4 and 8). Made when
// a node becomes leader; answers each holder's renewal request with a grant
// of exactly the committed placements it may run now.
//
// Rule 8: every decision reads `now`, the leader's local monotonic clock, at
// the call. A grant's time is recorded when it is decided, which is after the
// holder read its anchor: late, as the rules require.

import type { NodeId } from '../consensus/types.js';
import { settlePeriodMs } from './lease-config.js';
import type { LeaseTiming } from './lease-config.js';
import type { GroupEpoch, LeaseGrant, LeaseRequest } from './lease-messages.js';

/** A committed placement: the group's owner and epoch. */
export interface Placement {
  node: NodeId;
  epoch: number;
}

/** What the caller reads just before each call. */
export interface GrantContext {
  /** Committed placements from the applied state; nothing proposed but uncommitted (rule 2). */
  placements: ReadonlyMap<string, Placement>;
  /** The leader lease end, local ms (`RaftStatus.leaderLeaseUntil`), read at the call. */
  leaderLeaseUntil: number;
}

/** Why a group may not (yet) run on a node. `until`: local ms when the blocker lapses by itself. */
export type PlaceBlocker =
  | { reason: 'not-granting' }
  | { reason: 'settling'; until: number }
  /** `node` may still run it; lapses at `until`, sooner if it reports the group stopped or is fenced. */
  | { reason: 'held-elsewhere'; node: NodeId; until: number };

export type GrantDecision =
  | { ok: true; grant: LeaseGrant; withheld: (GroupEpoch & { blockers: PlaceBlocker[] })[] }
  | { ok: false; code: 'E_NOT_GRANTING' | 'E_NO_LEADER_LEASE' };

/** This leader authorised `group` on `node` (holder `session`) and has not seen it end yet. */
interface Authorisation {
  node: NodeId;
  session: string;
  /** Leader local ms of the last grant including the group. */
  lastGrantAt: number;
  /** Highest request seq answered with a grant including the group. */
  lastSeqWith: number;
  /** Seq of a grant without the group, above every seq granted with it; null while none. */
  dropSeq: number | null;
}

export class LeaseGranter {
  /** Local ms at which the settling period of rule 4 ends. */
  readonly settledAt: number;
  private granting = true;
  /** group → this leader's authorisations of it not yet known to have ended. */
  private readonly authorised = new Map<string, Authorisation[]>();
  /** L → local ms of the last grant with that L (the inherited L: at election). */
  private readonly leaseHistory = new Map<number, number>();

  /**
   * `now`: local ms read when this node became leader. `inheritedLeaseMs`:
   * the largest L an earlier leader may have granted (the committed L, or
   * larger if it changed recently).
   */
  constructor(
    private timing: LeaseTiming,
    now: number,
    inheritedLeaseMs: number = timing.nodeLeaseMs,
  ) {
    this.settledAt = now + settlePeriodMs(timing, inheritedLeaseMs);
    this.leaseHistory.set(inheritedLeaseMs, now);
  }

  /** New cluster properties: later grants use the new L; G keeps covering larger L granted in the last G. */
  setTiming(timing: LeaseTiming): void {
    this.timing = timing;
  }

  /**
   * Rule 3: a leadership transfer first stops all grants, so that every grant
   * of this leader precedes the next leader's election and its settling
   * period covers them. Final: after an abandoned transfer, make a new
   * LeaseGranter (it settles again).
   */
  stopGranting(): void {
    this.granting = false;
  }

  /** Rule 4(c): `node` was fenced and the fencing confirmed; none of its groups runs. */
  onFenced(node: NodeId): void {
    for (const [group, list] of this.authorised) this.setAuthorisations(group, list.filter((a) => a.node !== node));
  }

  /** Answer a renewal request at local time `now`. The caller sends the grant at once (rule 7). */
  onRequest(req: LeaseRequest, ctx: GrantContext, now: number): GrantDecision {
    this.forgetEnded(req, now);
    if (!this.granting) return { ok: false, code: 'E_NOT_GRANTING' };
    // Rule 2: only within the leader lease, so that no other leader can be
    // granting at the same time.
    if (!(now < ctx.leaderLeaseUntil)) return { ok: false, code: 'E_NO_LEADER_LEASE' };

    const groups: GroupEpoch[] = [];
    const withheld: (GroupEpoch & { blockers: PlaceBlocker[] })[] = [];
    for (const [group, p] of ctx.placements) {
      if (p.node !== req.from) continue;
      const pair = { group, epoch: p.epoch };
      // Rule 4, settling: for the first G only pairs the holder reports
      // holding, matching the latest committed placement, are renewed; any
      // grant of an earlier leader may still be running until then.
      const reported = req.held.some((h) => h.group === group && h.epoch === p.epoch);
      const blockers = this.blockers(group, req.from, now).filter((b) => !(b.reason === 'settling' && reported));
      if (blockers.length === 0) groups.push(pair);
      else withheld.push({ ...pair, blockers });
    }
    this.record(req, groups, now);
    return {
      ok: true,
      grant: { to: req.from, session: req.session, seq: req.seq, leaseMs: this.timing.nodeLeaseMs, groups },
      withheld,
    };
  }

  /**
   * May `group` start on `node` at local time `now`? If not, what it waits
   * for. The leader lease is not part of the answer: each grant checks it.
   */
  placeableAt(group: string, node: NodeId, now: number): { ok: boolean; blockers: PlaceBlocker[] } {
    const blockers = this.blockers(group, node, now);
    return { ok: blockers.length === 0, blockers };
  }

  /**
   * Rule 4 after settling: X may be authorised on `node` only when every
   * other node this leader authorised for X has ended it, by one of:
   * (a) it reported X stopped after applying a grant without X (`forgetEnded`),
   * (b) G has passed on this clock since the last grant of X to it (here),
   * (c) it was fenced with confirmation (`onFenced`).
   */
  private blockers(group: string, node: NodeId, now: number): PlaceBlocker[] {
    const out: PlaceBlocker[] = [];
    if (!this.granting) out.push({ reason: 'not-granting' });
    if (now < this.settledAt) out.push({ reason: 'settling', until: this.settledAt });
    const g = this.settlePeriod(now);
    for (const a of this.authorised.get(group) ?? []) {
      // The same node under another session is no second node: a restarted
      // agent's groups died with the old agent, and a group's cgroup is reused.
      if (a.node === node || now - a.lastGrantAt >= g) continue;
      out.push({ reason: 'held-elsewhere', node: a.node, until: a.lastGrantAt + g });
    }
    return out;
  }

  /** G for the largest L granted in the last G (rule 4: an older, longer grant may outlive the last). */
  private settlePeriod(now: number): number {
    let maxLeaseMs = 0;
    for (const [leaseMs, at] of this.leaseHistory) {
      if (now - at < settlePeriodMs(this.timing, leaseMs)) maxLeaseMs = Math.max(maxLeaseMs, leaseMs);
    }
    return settlePeriodMs(this.timing, maxLeaseMs);
  }

  /** Drops authorisations ended by (b) G elapsed, or by (a) the requester's report. */
  private forgetEnded(req: LeaseRequest, now: number): void {
    const g = this.settlePeriod(now);
    for (const [group, list] of this.authorised) {
      this.setAuthorisations(group, list.filter((a) => {
        if (now - a.lastGrantAt >= g) return false;
        // (a): the holder applied a grant newer than every grant of X to it
        // (so none of those can apply any more) and then confirmed X dead.
        // Holder seqs are per session, so only this session's report counts.
        const stopped = a.node === req.from && a.session === req.session && a.dropSeq !== null &&
          req.appliedSeq >= a.dropSeq && req.stopped.some((s) => s.group === group) && !req.held.some((h) => h.group === group);
        return !stopped;
      }));
    }
  }

  private record(req: LeaseRequest, groups: GroupEpoch[], now: number): void {
    const included = new Set(groups.map((p) => p.group));
    for (const [group, list] of this.authorised) {
      if (included.has(group)) continue;
      for (const a of list) {
        // The first grant without X answering a request newer than every
        // grant with X: once applied, no grant of X to this session can be.
        if (a.node === req.from && a.session === req.session && a.dropSeq === null && req.seq > a.lastSeqWith) a.dropSeq = req.seq;
      }
    }
    for (const { group } of groups) {
      const list = this.authorised.get(group) ?? [];
      const a = list.find((x) => x.node === req.from && x.session === req.session);
      if (a === undefined) list.push({ node: req.from, session: req.session, lastGrantAt: now, lastSeqWith: req.seq, dropSeq: null });
      else {
        a.lastGrantAt = now;
        a.lastSeqWith = Math.max(a.lastSeqWith, req.seq);
        a.dropSeq = null;
      }
      this.authorised.set(group, list);
    }
    if (groups.length > 0) this.leaseHistory.set(this.timing.nodeLeaseMs, now);
  }

  private setAuthorisations(group: string, list: Authorisation[]): void {
    if (list.length === 0) this.authorised.delete(group);
    else this.authorised.set(group, list);
  }
}
