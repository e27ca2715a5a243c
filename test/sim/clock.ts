// A node's monotonic clock: local = offset + rate * trueTime (all ms), with
// rate within [1 - ρ, 1 + ρ] (assumption A1). The simulator converts between
// a node's local time and true simulated time with it.

export class SimClock {
  constructor(
    /** Local reading (ms) at true time 0. */
    readonly offset: number,
    /** Local ms per true ms. */
    readonly rate: number,
  ) {}

  local(trueMs: number): number {
    return this.offset + this.rate * trueMs;
  }

  /** True time (ms, fractional) at which this clock reads `localMs`. */
  trueAt(localMs: number): number {
    return (localMs - this.offset) / this.rate;
  }

  /** A true time (ms) at which this clock reads at least `localMs` despite float rounding. */
  trueNotBefore(localMs: number): number {
    let t = this.trueAt(localMs);
    let nudge = 1e-9;
    while (this.local(t) < localMs) {
      t += nudge;
      nudge *= 2;
    }
    return t;
  }
}
