// The restart policy of one resource: a failed resource is restarted in
// place, `delay` ms after it failed, as long as fewer than `maxRestarts`
// restarts happened within the last `period` ms (a sliding window, so a
// resource that fails once a day is restarted every time); past that its
// group fails over, or, for a resource that must not take its group away,
// the resource stays Failed until an administrator cleans it up.
//
// Times are the leader's local monotonic ms. The leader keeps one tracker
// per resource and placement epoch: a group that failed over starts its
// resources with a clean slate on the new node.

import type { RestartSettings } from '../db/schema.js';

export type RestartVerdict =
  /** Restart the resource on the same node at local ms `at`. */
  | { action: 'restart'; at: number }
  /** Out of restarts: move the whole group to another node (the group's failover policy decides if it may). */
  | { action: 'failover' }
  /** Out of restarts, and the resource must not move its group: leave it Failed until cleanup. */
  | { action: 'stay-failed' };

export class RestartTracker {
  /** Local ms of the failures answered with a restart, oldest first, pruned to the window. */
  private restarts: number[] = [];

  /**
   * `policy` is read at each failure, so a changed setting applies from the
   * next one; its `failGroupOver` is false when the resource's failure must
   * leave its group where it is (the resource then stays Failed).
   */
  constructor(public policy: RestartSettings) {}

  /** The resource failed at local ms `now`. */
  onResourceFailed(now: number): RestartVerdict {
    this.prune(now);
    if (this.restarts.length < this.policy.maxRestarts) {
      this.restarts.push(now);
      return { action: 'restart', at: now + this.policy.delay };
    }
    return this.policy.failGroupOver ? { action: 'failover' } : { action: 'stay-failed' };
  }

  /** Restarts that still count at `now`. */
  restartsInWindow(now: number): number {
    this.prune(now);
    return this.restarts.length;
  }

  /** A restart exactly `period` ms old no longer counts. */
  private prune(now: number): void {
    const period = this.policy.period;
    while (this.restarts.length > 0 && now - (this.restarts[0] as number) >= period) this.restarts.shift();
  }
}
