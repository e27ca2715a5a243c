// The leader's view of one peer: how far its log matches, what to send
// next, and how much may be in flight (model: etcd's tracker.Progress).
//
// - probe: the leader does not know where the peer's log matches; one
//   append at a time, the next one after an answer (or a heartbeat answer,
//   which proves the link is up and the append was lost).
// - replicate: the peer matched; appends are pipelined optimistically up to
//   `maxInflight` unacknowledged ones.
// - snapshot: the peer needs entries the leader compacted; a snapshot is on
//   its way and nothing else is sent until it is answered or times out.

export type ReplicationState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ReplicationState = 'probe';
  /** probe: an append is out and not yet answered. */
  probeSent = false;
  /** replicate: last index of each unacknowledged append, oldest first. */
  private inflight: number[] = [];
  /** snapshot: the index of the snapshot sent and when (local ms), for the retry. */
  snapshotIndex = 0;
  snapshotSentAt = -Infinity;
  /** Local ms of the last message from the peer in this term (check-quorum). */
  lastHeardAt: number;
  /**
   * Local ms since which the peer has owed us an answer: when `match` last
   * advanced, replication restarted, or an append went out with nothing in
   * flight. The leader resends from `match` when this grows old.
   */
  progressAt: number;
  /** Highest heartbeat round the peer acknowledged (leader lease, read-index). */
  ackedRound = 0;
  /** Commit index carried by the last append sent, to know when a bare append is worth sending. */
  sentCommit = 0;

  constructor(next: number, now: number) {
    this.next = next;
    this.lastHeardAt = now;
    this.progressAt = now;
  }

  get snapshotPending(): boolean {
    return this.state === 'snapshot';
  }

  isPaused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(next: number, now: number): void {
    this.state = 'probe';
    this.next = Math.max(next, this.match + 1);
    this.probeSent = false;
    this.inflight = [];
    this.progressAt = now;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.inflight = [];
  }

  becomeSnapshot(index: number, now: number): void {
    this.state = 'snapshot';
    this.snapshotIndex = index;
    this.snapshotSentAt = now;
    this.inflight = [];
  }

  /** An append ending at `lastIndex` (null: no entries) was sent at local `now`. */
  sentAppend(lastIndex: number | null, now: number): void {
    if (this.state === 'probe') {
      this.probeSent = true;
    } else if (this.state === 'replicate' && lastIndex !== null) {
      if (this.inflight.length === 0) this.progressAt = now;
      this.next = lastIndex + 1;
      this.inflight.push(lastIndex);
    }
  }

  /** The peer acknowledged its log matches up to `index`. True if that is news. */
  acknowledge(index: number, now: number): boolean {
    while (this.inflight.length > 0 && (this.inflight[0] ?? Infinity) <= index) this.inflight.shift();
    this.next = Math.max(this.next, index + 1);
    if (index <= this.match) return false;
    this.match = index;
    this.progressAt = now;
    return true;
  }
}
