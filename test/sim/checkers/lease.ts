// Checker 2: no two nodes hold a valid leader lease at the same instant of
// TRUE simulated time. Each observation converts the node's
// `leaderLeaseUntil` (its local clock) to true time; a node holds its lease
// from the observation until that time, unless a later observation shows it
// stepped down, lost the lease or crashed.
import type { NodeId } from '../../../src/agent/consensus/types.js';
import type { Violation } from './violation.js';

export interface LeaseObservation {
  /** True time (ms) of the observation. */
  at: number;
  node: NodeId;
  /** Whether the node is leader (false when it crashed). */
  isLeader: boolean;
  /** The lease end converted to true time (ms); -Infinity if none. */
  leaseUntilTrue: number;
}

export class LeaseChecker {
  private readonly held = new Map<NodeId, number>();

  observe(o: LeaseObservation): Violation | null {
    if (!o.isLeader || o.leaseUntilTrue <= o.at) {
      this.held.delete(o.node);
      return null;
    }
    this.held.set(o.node, o.leaseUntilTrue);
    for (const [other, until] of this.held) {
      if (other === o.node || until <= o.at) continue;
      return {
        checker: 'lease',
        at: o.at,
        detail: `${o.node} holds a leader lease until ${o.leaseUntilTrue.toFixed(3)} while ${other} holds one until ${until.toFixed(3)} (true ms)`,
      };
    }
    return null;
  }
}

export function checkLeases(history: readonly LeaseObservation[]): Violation | null {
  const checker = new LeaseChecker();
  for (const o of history) {
    const v = checker.observe(o);
    if (v !== null) return v;
  }
  return null;
}
