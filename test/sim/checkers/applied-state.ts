// Checker 5: identical applied state on every node. Each node applies in
// order from its snapshot; the state-machine hash after applying index i is
// recorded the first time and must match on every other node at i.
import type { NodeId } from '../../../src/agent/consensus/types.js';
import type { Violation } from './violation.js';

export class AppliedStateChecker {
  private readonly stateAt = new Map<number, number>();
  private readonly appliedIndex = new Map<NodeId, number>();

  /** The node's state machine was reset to a snapshot (or empty at index 0). */
  restored(node: NodeId, at: number, index: number, stateHash: number): Violation | null {
    this.appliedIndex.set(node, index);
    return this.record(node, at, index, stateHash);
  }

  /** The node applied `index`; its state hash afterwards is `stateHash`. */
  applied(node: NodeId, at: number, index: number, stateHash: number): Violation | null {
    const prev = this.appliedIndex.get(node) ?? 0;
    if (index !== prev + 1) {
      return { checker: 'applied-state', at, detail: `${node} applied ${index} right after ${prev}` };
    }
    this.appliedIndex.set(node, index);
    return this.record(node, at, index, stateHash);
  }

  private record(node: NodeId, at: number, index: number, stateHash: number): Violation | null {
    const known = this.stateAt.get(index);
    if (known === undefined) {
      this.stateAt.set(index, stateHash);
      return null;
    }
    if (known === stateHash) return null;
    return { checker: 'applied-state', at, detail: `${node}'s state after index ${index} differs from another node's` };
  }
}

export interface AppliedEvent {
  at: number;
  node: NodeId;
  /** `restored`: the state machine was reset to a snapshot at `index`; `applied`: it applied `index`. */
  kind: 'restored' | 'applied';
  index: number;
  stateHash: number;
}

export function checkAppliedState(history: readonly AppliedEvent[]): Violation | null {
  const checker = new AppliedStateChecker();
  for (const e of history) {
    const v = e.kind === 'restored' ? checker.restored(e.node, e.at, e.index, e.stateHash) : checker.applied(e.node, e.at, e.index, e.stateHash);
    if (v !== null) return v;
  }
  return null;
}
