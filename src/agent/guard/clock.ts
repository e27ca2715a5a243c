// The one clock the lease guard and the agent share across a process
// boundary: CLOCK_MONOTONIC, in ms. It is the same clock in every process on
// a machine and never jumps with the wall clock (rule 8). performance.now()
// is not usable here: it counts from each process's own start.

/** CLOCK_MONOTONIC in ms, fractional (ns resolution), comparable between processes on one machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
