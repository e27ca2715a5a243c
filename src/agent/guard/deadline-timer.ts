// The guard's deadline mechanism (rule 8): a timer firing proves nothing, so
// every wake-up reads the monotonic clock and decides from that. Far from
// the deadline it sleeps until `nearMs` before it; then it wakes every
// `tickMs` at most, and finally at the deadline itself, so that a timer that
// fires late or early costs little. measureGuardLatency() times this class.

import { monotonicMs } from './clock.js';

export interface DeadlineTimerOptions {
  /** From this many ms before the deadline the timer ticks (default 50). */
  nearMs?: number;
  /** Longest sleep within `nearMs` of the deadline, ms (default 10). */
  tickMs?: number;
}

export class DeadlineTimer {
  private deadline: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly nearMs: number;
  private readonly tickMs: number;

  /** `onDue(now)` runs once per deadline, with the monotonic time (ms) read when it was found due. */
  constructor(
    private readonly onDue: (now: number) => void,
    options: DeadlineTimerOptions = {},
  ) {
    this.nearMs = options.nearMs ?? 50;
    this.tickMs = options.tickMs ?? 10;
  }

  /** Replaces the deadline (monotonic ms); null cancels it. A deadline already past is due at once. */
  set(deadline: number | null): void {
    this.deadline = deadline;
    this.check();
  }

  get(): number | null {
    return this.deadline;
  }

  private check(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.deadline === null) return;
    const now = monotonicMs();
    const remaining = this.deadline - now;
    if (remaining <= 0) {
      this.deadline = null;
      this.onDue(now);
      return;
    }
    const sleepMs = remaining > this.nearMs ? remaining - this.nearMs : Math.min(remaining, this.tickMs);
    // Node timers have ms resolution and may wake a little early: round up, then check again.
    this.timer = setTimeout(() => this.check(), Math.ceil(sleepMs));
  }
}
