// What the leader remembers about failures: each resource's restart count
// (per placement epoch), each group's failover count and hold, and which
// Failed records it has already answered, so that a record seen again on
// the next plan is not counted twice. A Failed record is known by its
// placement epoch and its time (`since`).

import type { GroupRecord } from '../db/schema.js';
import type { RestartVerdict } from './policy-restart.js';
import type { PlanView, Where } from './placement-view.js';
import { FailoverTracker } from './policy-failover.js';
import { RestartTracker } from './policy-restart.js';

export type FailureAnswer =
  /** Held Failed where it is until cleanup or local ms `retryAt`. */
  | { kind: 'held'; retryAt: number }
  /** The hold is over: try the group again, elsewhere if possible (its counts start afresh). */
  | { kind: 'retry' }
  /** A resource ran out of restarts and the group may fail over. */
  | { kind: 'failover' }
  /** Restart these resources in place; `stayFailed`: resources out of restarts that must not move the group. */
  | { kind: 'in-place'; restarts: { resource: string; failedSince: number; at: number }[]; stayFailed: string[] };

export class FailureMemory {
  /** group → its failover tracker, and the epoch of the placement it is held Failed in. */
  private readonly failovers = new Map<string, { tracker: FailoverTracker; heldEpoch: number | null }>();
  /** resource → restart tracker of one placement epoch. */
  private readonly restarts = new Map<string, { epoch: number; tracker: RestartTracker }>();
  /** resource → the last Failed record answered, and the answer. */
  private readonly answered = new Map<string, { epoch: number; since: number; verdict: RestartVerdict }>();

  /**
   * The answer to the failures of group `g` in its placement `at` at local
   * ms `v.now`. `reachable`: false when the owner is Down, whose reports are
   * stale; then only a hold is answered.
   */
  answer(g: GroupRecord, at: Where, reachable: boolean, v: PlanView): FailureAnswer {
    let f = this.failoverOf(g);
    if (f.heldEpoch !== null && (f.heldEpoch !== at.epoch || !v.resources(g.name).some((r) => v.resourceState(r.name, at.epoch)?.state === 'Failed'))) {
      // Placed anew since it was held (a placement.set from elsewhere), or no
      // failure is left to hold it for (resource cleanup): the hold is over,
      // and a group running again is not moved when the retry time comes.
      this.forget(g, v);
      f = this.failoverOf(g);
    }
    if (f.heldEpoch !== null) {
      if (!f.tracker.retryDue(v.now)) return { kind: 'held', retryAt: f.tracker.heldUntil() as number };
      this.forget(g, v);
      return { kind: 'retry' };
    }
    const restarts: { resource: string; failedSince: number; at: number }[] = [];
    const stayFailed: string[] = [];
    let groupFailed = false;
    for (const r of reachable ? v.resources(g.name) : []) {
      const s = v.resourceState(r.name, at.epoch);
      if (s === undefined || s.state !== 'Failed') continue;
      const seen = this.answered.get(r.name);
      const fresh = seen === undefined || seen.epoch !== s.epoch || seen.since !== s.since;
      const verdict = fresh ? this.restartOf(r.name, s.epoch, r.restart ?? g.restart).onResourceFailed(v.now) : seen.verdict;
      this.answered.set(r.name, { epoch: s.epoch, since: s.since, verdict });
      if (verdict.action === 'restart') restarts.push({ resource: r.name, failedSince: s.since, at: verdict.at });
      else if (verdict.action === 'stay-failed') stayFailed.push(r.name);
      else if (fresh) groupFailed = true;
    }
    if (!groupFailed) return { kind: 'in-place', restarts, stayFailed };
    const verdict = f.tracker.onGroupFailed(v.now);
    if (verdict.action === 'failover') return { kind: 'failover' };
    f.heldEpoch = at.epoch;
    return { kind: 'held', retryAt: verdict.retryAt };
  }

  /** Cleanup: the group's failovers, hold and its resources' restart counts start afresh. */
  forget(g: GroupRecord, v: PlanView): void {
    this.failovers.delete(g.name);
    for (const r of v.resources(g.name)) {
      this.restarts.delete(r.name);
      this.answered.delete(r.name);
    }
  }

  /** Drops what belongs to groups and resources no longer in the committed state. */
  forgetRemoved(v: PlanView): void {
    for (const name of this.failovers.keys()) if (v.group(name) === undefined) this.failovers.delete(name);
    const resources = new Set(v.groups.flatMap((g) => v.resources(g.name).map((r) => r.name)));
    for (const map of [this.restarts, this.answered]) for (const name of map.keys()) if (!resources.has(name)) map.delete(name);
  }

  private failoverOf(g: GroupRecord): { tracker: FailoverTracker; heldEpoch: number | null } {
    let f = this.failovers.get(g.name);
    if (f === undefined) this.failovers.set(g.name, (f = { tracker: new FailoverTracker(g), heldEpoch: null }));
    f.tracker.policy = g;
    return f;
  }

  /** The resource's tracker for `epoch`: a group placed anew restarts its resources with a clean slate. */
  private restartOf(resource: string, epoch: number, policy: GroupRecord['restart']): RestartTracker {
    let entry = this.restarts.get(resource);
    if (entry === undefined || entry.epoch !== epoch) this.restarts.set(resource, (entry = { epoch, tracker: new RestartTracker(policy) }));
    entry.tracker.policy = policy;
    return entry.tracker;
  }
}
