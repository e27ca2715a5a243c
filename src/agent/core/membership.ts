// The agent's liveness view of the cluster's nodes: Up, Down, Joining or
// Paused, from when each node was last heard (heartbeats and any other
// message over the peer connections). Informs placement and status; safety
// never depends on it (node leases do that), so a wrong view costs only
// a needless move.
//
// Rule 8: "last heard" is the local monotonic time read when the message was
// received, never a time carried in the message or read before waiting.

import type { NodeId } from '../consensus/types.js';

export interface LivenessThresholds {
  /** h, ms (default 100): the peers' heartbeat interval. */
  heartbeatIntervalMs: number;
  /**
   * Intervals of silence before a node is suspect (default 3: two lost
   * heartbeats are normal on a busy link, three are news). Shown in status;
   * placement may prefer other nodes.
   */
  suspectAfterIntervals: number;
  /**
   * Intervals of silence before a node is Down (default 10, 1 s: about its
   * node lease, after which its groups are placed elsewhere). Shorter: faster
   * reaction, more moves on a flapping link.
   */
  downAfterIntervals: number;
}

export const defaultLivenessThresholds: LivenessThresholds = {
  heartbeatIntervalMs: 100,
  suspectAfterIntervals: 3,
  downAfterIntervals: 10,
};

export interface LivenessProblem {
  code: 'E_NOT_POSITIVE_INTEGER' | 'E_DOWN_BEFORE_SUSPECT';
  field: keyof LivenessThresholds;
  message: string;
}

/** Every problem with `t`; empty when usable. */
export function validateLivenessThresholds(t: LivenessThresholds): LivenessProblem[] {
  const problems: LivenessProblem[] = [];
  for (const field of ['heartbeatIntervalMs', 'suspectAfterIntervals', 'downAfterIntervals'] as const) {
    const v = t[field];
    if (!Number.isInteger(v) || v <= 0) {
      problems.push({ code: 'E_NOT_POSITIVE_INTEGER', field, message: `${field} must be a positive integer, got ${String(v)}` });
    }
  }
  if (problems.length === 0 && t.downAfterIntervals <= t.suspectAfterIntervals) {
    problems.push({
      code: 'E_DOWN_BEFORE_SUSPECT',
      field: 'downAfterIntervals',
      message: `downAfterIntervals (${t.downAfterIntervals}) must exceed suspectAfterIntervals (${t.suspectAfterIntervals})`,
    });
  }
  return problems;
}

/**
 * - Down: silent for `downAfterIntervals`, or never heard since this view began.
 * - Joining: a learner still catching up with the log (not placeable).
 * - Paused: drained by an administrator (the database flag); no groups placed there.
 * - Up: otherwise.
 * Down wins over Joining, which wins over Paused.
 */
export type NodeState = 'Up' | 'Down' | 'Joining' | 'Paused';

export interface NodeLiveness {
  node: NodeId;
  state: NodeState;
  /** Silent for `suspectAfterIntervals` but not yet Down. */
  suspect: boolean;
  /** Local ms when last heard; null if never. */
  lastHeardAt: number | null;
}

export interface MemberFlags {
  id: NodeId;
  /** From the cluster database. */
  paused: boolean;
  /** A learner in the consensus configuration. */
  joining: boolean;
}

export class LivenessView {
  private members = new Map<NodeId, MemberFlags & { lastHeardAt: number | null }>();

  constructor(private readonly thresholds: LivenessThresholds = defaultLivenessThresholds) {}

  /** The nodes of the cluster and their flags; keeps when each known node was last heard. */
  setMembers(members: MemberFlags[]): void {
    const next = new Map<NodeId, MemberFlags & { lastHeardAt: number | null }>();
    for (const m of members) next.set(m.id, { ...m, lastHeardAt: this.members.get(m.id)?.lastHeardAt ?? null });
    this.members = next;
  }

  /** A message from `node` was received at local time `now` (the local node observes itself on each tick). */
  observe(node: NodeId, now: number): void {
    const m = this.members.get(node);
    if (m !== undefined) m.lastHeardAt = m.lastHeardAt === null ? now : Math.max(m.lastHeardAt, now);
  }

  state(node: NodeId, now: number): NodeLiveness | undefined {
    const m = this.members.get(node);
    if (m === undefined) return undefined;
    const h = this.thresholds.heartbeatIntervalMs;
    const silentMs = m.lastHeardAt === null ? Infinity : now - m.lastHeardAt;
    const down = silentMs >= this.thresholds.downAfterIntervals * h;
    const state: NodeState = down ? 'Down' : m.joining ? 'Joining' : m.paused ? 'Paused' : 'Up';
    return { node, state, suspect: !down && silentMs >= this.thresholds.suspectAfterIntervals * h, lastHeardAt: m.lastHeardAt };
  }

  /** Every member's state at local time `now`, in member order. */
  states(now: number): NodeLiveness[] {
    return [...this.members.keys()].map((id) => this.state(id, now)).filter((s): s is NodeLiveness => s !== undefined);
  }
}
