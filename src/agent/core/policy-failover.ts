// The failover policy of one group: a group whose resources ran out of
// restarts moves to another node at most `failoverThreshold` times within
// the last `failoverPeriod` ms (a sliding window). One failure more and the
// group is held Failed where it is: something is wrong that moving will not
// fix, and moving again would only spread the damage. The hold ends with an
// administrator's cleanup, or by itself `failoverRetry` ms after it began,
// when the group gets a fresh threshold and is tried once more.
//
// Only group failures count: a group that moves because its node went down,
// was drained or failed back did not fail.
//
// Times are the leader's local monotonic ms.

import type { GroupRecord } from '../db/schema.js';

export type FailoverPolicy = Pick<GroupRecord, 'failoverThreshold' | 'failoverPeriod' | 'failoverRetry'>;

export type FailoverVerdict =
  | { action: 'failover' }
  /** Held Failed where it is until cleanup or local ms `retryAt`. */
  | { action: 'stay-failed'; retryAt: number };

export class FailoverTracker {
  /** Local ms of the failovers allowed, oldest first, pruned to the window. */
  private failovers: number[] = [];
  /** Local ms at which the hold began; null while not held. */
  private heldSince: number | null = null;

  /**
   * `policy` is read whenever it is needed: a changed threshold or period
   * applies from the next failure, a changed retry to the hold in progress
   * (set shorter, it can end the hold at once).
   */
  constructor(public policy: FailoverPolicy) {}

  /** The group failed at local ms `now` (a resource ran out of restarts). */
  onGroupFailed(now: number): FailoverVerdict {
    if (this.heldSince === null) {
      const period = this.policy.failoverPeriod;
      while (this.failovers.length > 0 && now - (this.failovers[0] as number) >= period) this.failovers.shift();
      if (this.failovers.length < this.policy.failoverThreshold) {
        this.failovers.push(now);
        return { action: 'failover' };
      }
      this.heldSince = now;
    }
    return { action: 'stay-failed', retryAt: this.heldSince + this.policy.failoverRetry };
  }

  /** Local ms at which the hold ends; null while the group is not held. */
  heldUntil(): number | null {
    return this.heldSince === null ? null : this.heldSince + this.policy.failoverRetry;
  }

  /** Held, and the retry period has passed: the caller tries the group again after `cleanup()`. */
  retryDue(now: number): boolean {
    const until = this.heldUntil();
    return until !== null && now >= until;
  }

  /** An administrator's cleanup, or the retry: forget the failovers and the hold. */
  cleanup(): void {
    this.failovers = [];
    this.heldSince = null;
  }
}
