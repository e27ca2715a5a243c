// Heartbeat gaps as a metric: on a follower, the time between two
// successive heartbeats from the same leader in the same term, as they
// reach the agent (after the transport and this node's event loop). The
// leader sends one every heartbeat interval h, so a gap much longer than h
// means lease traffic waited somewhere (a busy event loop on either side,
// a heartbeat queued behind bulk data). Elections are not gaps: a new
// leader or term starts over. Like the event-loop delay, the figures cover
// the current and the previous window (10 s each), so the last 10-20 s.

/** Window length, ms. */
const WINDOW_MS = 10_000;

export interface HeartbeatGapFigures {
  /** ms; null when no gap was seen in the last 10-20 s (this node leads, or is alone). */
  p99Ms: number | null;
  maxMs: number | null;
  count: number;
}

export class HeartbeatGapMonitor {
  private last: { from: string; term: number; at: number } | null = null;
  private current: number[] = [];
  private previous: number[] = [];
  private windowStart: number;

  constructor(now: number) {
    this.windowStart = now;
  }

  /** A heartbeat from `from` in `term` arrived at `now` (ms of the monotonic clock). */
  observe(from: string, term: number, now: number): void {
    this.rotate(now);
    const last = this.last;
    if (last !== null && last.from === from && last.term === term && now >= last.at) this.current.push(now - last.at);
    this.last = { from, term, at: now };
  }

  figures(now: number): HeartbeatGapFigures {
    this.rotate(now);
    const gaps = [...this.previous, ...this.current].sort((a, b) => a - b);
    if (gaps.length === 0) return { p99Ms: null, maxMs: null, count: 0 };
    // Nearest rank: with ~100-200 gaps in 10-20 s, p99 is the second or third longest.
    const p99 = gaps[Math.min(gaps.length - 1, Math.ceil(0.99 * gaps.length) - 1)] as number;
    return { p99Ms: round(p99), maxMs: round(gaps[gaps.length - 1] as number), count: gaps.length };
  }

  private rotate(now: number): void {
    if (now - this.windowStart < WINDOW_MS) return;
    // A whole window without a sample leaves nothing to carry over.
    this.previous = now - this.windowStart < 2 * WINDOW_MS ? this.current : [];
    this.current = [];
    this.windowStart = now - ((now - this.windowStart) % WINDOW_MS);
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
