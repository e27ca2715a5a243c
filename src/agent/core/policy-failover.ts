// The failover policy of one group: a group whose resources ran out of
// restarts moves to another node at most `failoverThreshold` times within
// the last `failoverPeriod` ms (a sliding window). One failure more and the
// group is held Failed where it is: something is wrong that moving will not
// fix, and moving again would only spread the damage. The hold ends with an
// administrator's cleanup, or by itself after `retryMs` (default 1 h), when
// the group gets a fresh threshold and is tried once more.
//
// Only group failures count: a group that moves because its node went down,
// was drained or failed back did not fail.
//
// Times are the leader's local monotonic ms.

import type { GroupRecord } from '../db/schema.js';

/** Default time (ms) a group stays held Failed before it is tried again: 1 h. */
export const DEFAULT_FAILOVER_RETRY_MS = 3_600_000;

export type FailoverPolicy = Pick<GroupRecord, 'failoverThreshold' | 'failoverPeriod'>;

export type FailoverVerdict =
  | { action: 'failover' }
  /** Held Failed where it is until cleanup or local ms `retryAt`. */
  | { action: 'stay-failed'; retryAt: number };

export class FailoverTracker {
  /** Local ms of the failovers allowed, oldest first, pruned to the window. */
  private failovers: number[] = [];
  /** Local ms at which the hold ends; null while not held. */
  private retryAt: number | null = null;

  /** `policy` is read at each failure, so a changed setting applies from the next one. */
  constructor(
    public policy: FailoverPolicy,
    public readonly retryMs = DEFAULT_FAILOVER_RETRY_MS,
  ) {}

  /** The group failed at local ms `now` (a resource ran out of restarts). */
  onGroupFailed(now: number): FailoverVerdict {
    if (this.retryAt !== null) return { action: 'stay-failed', retryAt: this.retryAt };
    const period = this.policy.failoverPeriod;
    while (this.failovers.length > 0 && now - (this.failovers[0] as number) >= period) this.failovers.shift();
    if (this.failovers.length < this.policy.failoverThreshold) {
      this.failovers.push(now);
      return { action: 'failover' };
    }
    this.retryAt = now + this.retryMs;
    return { action: 'stay-failed', retryAt: this.retryAt };
  }

  /** Local ms at which the hold ends; null while the group is not held. */
  heldUntil(): number | null {
    return this.retryAt;
  }

  /** Held, and the retry period has passed: the caller tries the group again after `cleanup()`. */
  retryDue(now: number): boolean {
    return this.retryAt !== null && now >= this.retryAt;
  }

  /** An administrator's cleanup, or the retry: forget the failovers and the hold. */
  cleanup(): void {
    this.failovers = [];
    this.retryAt = null;
  }
}
