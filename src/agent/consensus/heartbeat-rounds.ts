// A leader's numbered heartbeat rounds. Each round remembers the local time
// it was sent, read *before* sending, so that a late acknowledgement can
// never stretch the lease beyond what the voters promised (safety rules 2
// and 8). Reads waiting for read-index confirmation ride on the first
// round started after they arrived.

import type { ReadState } from './types.js';

export class HeartbeatRounds {
  /** The last round started. */
  current = 0;
  /** The highest round a quorum of voters has acknowledged. */
  confirmed = 0;
  private readonly sentAt = new Map<number, number>();
  private reads: (ReadState & { round: number })[] = [];

  /** Start a round at local time `now`, carrying `reads` (already bound to their commit index). */
  start(now: number, reads: ReadState[]): number {
    this.current += 1;
    this.sentAt.set(this.current, now);
    for (const r of reads) this.reads.push({ ...r, round: this.current });
    return this.current;
  }

  /**
   * A quorum acknowledged `round`. Returns the round's send time and the
   * reads it confirms, or null if an equal or later round was already
   * confirmed.
   */
  confirm(round: number): { sentAt: number; reads: ReadState[] } | null {
    const sentAt = this.sentAt.get(round);
    if (round <= this.confirmed || sentAt === undefined) return null;
    this.confirmed = round;
    for (const r of [...this.sentAt.keys()]) if (r <= round) this.sentAt.delete(r);
    const done = this.reads.filter((r) => r.round <= round).map(({ requestId, index }) => ({ requestId, index }));
    this.reads = this.reads.filter((r) => r.round > round);
    return { sentAt, reads: done };
  }

  /** Reads still waiting for confirmation (to fail them when leadership ends). */
  pendingReads(): string[] {
    return this.reads.map((r) => r.requestId);
  }
}
