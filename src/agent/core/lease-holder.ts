// The holder side of node leases (safety rules 1, 5 and 8): every node, the
// leader included, holds a lease from the leader and runs exactly the
// (group, epoch) pairs of the newest grant it applied, until its anchor + L.
//
// Rule 8: `now` is the local monotonic clock read when the call is made. Only
// the anchor is read early (before the request is sent), which can only make
// the lease end sooner. A timer firing proves nothing: `tick(now)` decides
// from the `now` passed, never from when the timer was meant to fire.

import type { NodeId } from '../consensus/types.js';
import type { LeaseTiming } from './lease-config.js';
import type { GroupEpoch, LeaseGrant, LeaseRequest } from './lease-messages.js';

/** Requests awaiting a grant; the oldest anchors are forgotten beyond this (ignoring a grant is always safe). */
const MAX_OUTSTANDING_REQUESTS = 32;

/**
 * What the node must do now. `stop`: pairs dropped by a grant or by expiry;
 * stop them at once, then call `onStopped` for each once no process of the
 * group remains. `start`: pairs newly allowed; the runtime may start them,
 * checking `allowed(now)` again when it actually does.
 */
export interface LeaseChange {
  stop: GroupEpoch[];
  start: GroupEpoch[];
}

export class LeaseHolder {
  private nextSeq = 1;
  /** seq → anchor a, local ms, read before the request was sent. */
  private readonly anchors = new Map<number, number>();
  private appliedSeq = 0;
  /** Lease end of the newest applied grant, local ms. */
  private until = -Infinity;
  private groups: GroupEpoch[] = [];
  /** Groups announced in `start` and not yet told to stop: group → epoch. */
  private readonly active = new Map<string, number>();
  /** Groups told to stop, not yet confirmed dead, with the lease end they last ran under. */
  private readonly stopping = new Map<string, { epoch: number; until: number }>();
  /** Groups confirmed dead since they were last stopped: group → epoch. */
  private readonly stopped = new Map<string, number>();

  constructor(
    readonly node: NodeId,
    /** Random per agent process start; see `LeaseRequest.session`. */
    readonly session: string,
    private readonly timing: LeaseTiming,
  ) {}

  /**
   * A renewal request to send to the leader. `now` must be read before the
   * request is sent: it becomes the anchor a, and the lease a grant gives
   * ends at a + L, so however late the grant arrives the lease never
   * outlasts L after the leader could have decided it (rule 1).
   */
  requestRenewal(now: number): LeaseRequest {
    const seq = this.nextSeq++;
    this.anchors.set(seq, now);
    if (this.anchors.size > MAX_OUTSTANDING_REQUESTS) {
      const oldest = this.anchors.keys().next().value;
      if (oldest !== undefined) this.anchors.delete(oldest);
    }
    return {
      from: this.node,
      session: this.session,
      seq,
      appliedSeq: this.appliedSeq,
      held: this.allowed(now).groups,
      stopped: [...this.stopped].map(([group, epoch]) => ({ group, epoch })),
    };
  }

  /**
   * Apply a grant if it answers one of this session's requests newer than
   * the newest applied. A duplicate, a reordered older grant, or one meant
   * for a previous session is ignored: it could only revive a list the node
   * was already told to replace (rule 1: a newer grant replaces it).
   */
  onGrant(grant: LeaseGrant, now: number): LeaseChange {
    const anchor = this.anchors.get(grant.seq);
    if (grant.to !== this.node || grant.session !== this.session || anchor === undefined || grant.seq <= this.appliedSeq) {
      return this.reconcile(now, this.until);
    }
    const previousUntil = this.until;
    this.appliedSeq = grant.seq;
    for (const seq of this.anchors.keys()) if (seq <= grant.seq) this.anchors.delete(seq);
    // Rule 1: the end is the anchor of the request this grant answers + L,
    // never the arrival time: a late grant cannot extend the lease.
    this.until = anchor + grant.leaseMs;
    this.groups = grant.groups.map(({ group, epoch }) => ({ group, epoch }));
    return this.reconcile(now, previousUntil);
  }

  /** Call whenever the runtime wakes (at least by `allowed().until`): reports what expiry stops. */
  tick(now: number): LeaseChange {
    return this.reconcile(now, this.until);
  }

  /**
   * The runtime confirms that no process of `pair.group` runs any more. Only
   * a pair that is being stopped counts; a group allowed again meanwhile
   * stays held. Reported to the leader as evidence for rule 4.
   */
  onStopped(pair: GroupEpoch): void {
    const s = this.stopping.get(pair.group);
    if (s === undefined || s.epoch !== pair.epoch) return;
    this.stopping.delete(pair.group);
    this.stopped.set(pair.group, pair.epoch);
  }

  /** What the node may run at local time `now`: nothing at or after `until`. */
  allowed(now: number): { until: number; groups: GroupEpoch[] } {
    return { until: this.until, groups: now < this.until ? this.groups.map(({ group, epoch }) => ({ group, epoch })) : [] };
  }

  /**
   * Local time at which the lease guard kills every group (rule 5): λ + K
   * before the earliest lease end any group may still be running under.
   * A group dropped by a grant keeps the end of the lease it last ran under,
   * not the newer grant's: the grant that drops it must not extend its time.
   */
  guardDeadline(): number {
    let end = this.until;
    for (const s of this.stopping.values()) end = Math.min(end, s.until);
    return end - (this.timing.guardLatencyMs + this.timing.killTimeMs);
  }

  /** Brings `active` in line with `allowed(now)`; `previousUntil` is the lease end the active groups ran under. */
  private reconcile(now: number, previousUntil: number): LeaseChange {
    const want = new Map(this.allowed(now).groups.map((p) => [p.group, p.epoch]));
    const change: LeaseChange = { stop: [], start: [] };
    for (const [group, epoch] of this.active) {
      if (want.get(group) === epoch) continue;
      // Rule 1: a group left out of the newest grant, or any group once the
      // lease has ended, stops at once.
      this.active.delete(group);
      this.stopping.set(group, { epoch, until: previousUntil });
      change.stop.push({ group, epoch });
    }
    for (const [group, epoch] of want) {
      if (this.active.get(group) === epoch) continue;
      this.active.set(group, epoch);
      this.stopping.delete(group);
      this.stopped.delete(group);
      change.start.push({ group, epoch });
    }
    return change;
  }
}
