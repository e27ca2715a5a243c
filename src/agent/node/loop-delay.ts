// Event-loop delay as a metric: how late the agent's timers run, which is
// how late it answers heartbeats and lease requests. perf_hooks samples it
// with a 10 ms timer; the histogram's values include those 10 ms, which are
// taken off. The p99 shown is the larger of the current and the previous
// window (10 s each), so it reflects the last 10-20 s, not the whole uptime.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const WINDOW_MS = 10_000;

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private previousP99Ms = 0;
  private previousMaxMs = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previousP99Ms = this.currentP99Ms();
      this.previousMaxMs = this.currentMaxMs();
      this.histogram.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    this.histogram.disable();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** ms by which 99% of timer wake-ups in the last 10-20 s were late at most. */
  p99Ms(): number {
    return Math.max(this.previousP99Ms, this.currentP99Ms());
  }

  /** The longest single delay in the same 10-20 s, ms: one long stall hides in the p99 of thousands of 10 ms samples. */
  maxMs(): number {
    return Math.max(this.previousMaxMs, this.currentMaxMs());
  }

  private currentMaxMs(): number {
    if (this.histogram.count === 0) return 0;
    return Math.max(0, this.histogram.max / 1e6 - RESOLUTION_MS);
  }

  private currentP99Ms(): number {
    if (this.histogram.count === 0) return 0;
    return Math.max(0, this.histogram.percentile(99) / 1e6 - RESOLUTION_MS);
  }
}
