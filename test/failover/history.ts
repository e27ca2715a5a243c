// The outside observer's verdict on a history of resource instances: a
// group was dual-active when two of its instances were active at the same
// moment, judged only from when each instance's connection to the observer
// opened and closed (never from the cluster's own beliefs).

export interface Instance {
  group: string;
  /** The node it ran on (name), '?' when it could not be told. */
  node: string;
  pid: number;
  /** performance.now() when the observer accepted its connection, ms. */
  connectedAt: number;
  /** performance.now() when its connection closed (the process died), ms; null while it is active. */
  closedAt: number | null;
}

export interface DualActive {
  group: string;
  first: Instance;
  second: Instance;
  /** How long both were active, ms (up to `now` for one still active). */
  overlapMs: number;
}

export interface GroupVerdict {
  group: string;
  instances: number;
  dualActive: DualActive[];
  /**
   * Smallest time between an instance's start and the end of every instance
   * before it, ms; negative when one before it was still active (then the
   * pair is in dualActive too). Null with fewer than two instances.
   */
  smallestGapMs: number | null;
}

const byStart = (a: Instance, b: Instance): number => a.connectedAt - b.connectedAt;

/**
 * The verdict on one group's instances at time `now` (performance.now(), ms).
 * Intervals are half-open [connectedAt, closedAt): one that closes exactly
 * when the next connects touches it and does not overlap it.
 */
export function judgeGroup(group: string, instances: readonly Instance[], now: number): GroupVerdict {
  const sorted = instances.filter((i) => i.group === group).sort(byStart);
  const dualActive: DualActive[] = [];
  let smallestGapMs: number | null = null;
  let latestEnd = -Infinity;
  for (let j = 0; j < sorted.length; j++) {
    const second = sorted[j] as Instance;
    for (let i = 0; i < j; i++) {
      const first = sorted[i] as Instance;
      // Still-active instances end at +∞ for the decision, at `now` for the amount.
      if ((first.closedAt ?? Infinity) > second.connectedAt && (second.closedAt ?? Infinity) > second.connectedAt) {
        const overlapMs = Math.min(first.closedAt ?? now, second.closedAt ?? now) - second.connectedAt;
        dualActive.push({ group, first, second, overlapMs });
      }
    }
    if (j > 0) {
      const gap = second.connectedAt - latestEnd;
      smallestGapMs = smallestGapMs === null ? gap : Math.min(smallestGapMs, gap);
    }
    latestEnd = Math.max(latestEnd, second.closedAt ?? now);
  }
  return { group, instances: sorted.length, dualActive, smallestGapMs };
}

/** The verdict on every group that has instances. */
export function judgeHistory(instances: readonly Instance[], now: number): GroupVerdict[] {
  const groups = [...new Set(instances.map((i) => i.group))].sort();
  return groups.map((g) => judgeGroup(g, instances, now));
}

/** One line per dual-active pair, with nodes, pids, intervals and overlap. */
export function describeDualActive(d: DualActive): string {
  const interval = (i: Instance): string => `[${i.connectedAt.toFixed(1)}, ${i.closedAt === null ? 'active' : i.closedAt.toFixed(1)})`;
  return `${d.group} dual-active for ${d.overlapMs.toFixed(1)} ms: ${d.first.node} pid ${d.first.pid} ${interval(d.first)} and ${d.second.node} pid ${d.second.pid} ${interval(d.second)}`;
}
