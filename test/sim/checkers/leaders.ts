// Checker 1: at most one leader per term (Raft's Election Safety).
import type { NodeId, Role } from '../../../src/agent/consensus/types.js';
import type { Violation } from './violation.js';

export interface RoleObservation {
  /** True time (ms). */
  at: number;
  node: NodeId;
  term: number;
  role: Role;
}

export class LeaderPerTermChecker {
  private readonly leaders = new Map<number, NodeId>();

  /** Number of distinct (term, leader) pairs seen: the elections won. */
  get elections(): number {
    return this.leaders.size;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  observe(o: RoleObservation): Violation | null {
    if (o.role !== 'leader') return null;
    const known = this.leaders.get(o.term);
    if (known === undefined) {
      this.leaders.set(o.term, o.node);
      return null;
    }
    if (known === o.node) return null;
    return { checker: 'leader-per-term', at: o.at, detail: `${known} and ${o.node} are both leader of term ${o.term}` };
  }
}

export function checkLeadersPerTerm(history: readonly RoleObservation[]): Violation | null {
  const checker = new LeaderPerTermChecker();
  for (const o of history) {
    const v = checker.observe(o);
    if (v !== null) return v;
  }
  return null;
}
