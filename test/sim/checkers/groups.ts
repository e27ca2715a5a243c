// Checker 8: a group is never active on two nodes at the same instant of
// TRUE simulated time. It is judged from the simulated resource world (when
// processes actually start and end), not from what the cluster believes: a
// group is active on a node from the start of its first process there until
// the end of its last.
import type { NodeId } from '../../../src/agent/consensus/types.js';
import type { Violation } from './violation.js';

export interface ProcessEvent {
  /** True time (ms). */
  at: number;
  node: NodeId;
  group: string;
  resource: string;
  kind: 'start' | 'end';
}

export class GroupExclusionChecker {
  /** group → node → its resources running there, and since when (true ms) the group has been active there. */
  private readonly active = new Map<string, Map<NodeId, { resources: Set<string>; since: number }>>();

  observe(e: ProcessEvent): Violation | null {
    let nodes = this.active.get(e.group);
    if (nodes === undefined) this.active.set(e.group, (nodes = new Map()));
    const here = nodes.get(e.node);
    if (e.kind === 'end') {
      here?.resources.delete(e.resource);
      if (here?.resources.size === 0) nodes.delete(e.node);
      return null;
    }
    if (here !== undefined) {
      here.resources.add(e.resource);
      return null;
    }
    nodes.set(e.node, { resources: new Set([e.resource]), since: e.at });
    for (const [other, a] of nodes) {
      if (other === e.node) continue;
      return {
        checker: 'group-exclusive',
        at: e.at,
        detail: `group ${e.group} started on ${e.node} (${e.resource}) at ${e.at.toFixed(3)} while active on ${other} since ${a.since.toFixed(3)} ` +
          `(${[...a.resources].join(',')}) (true ms)`,
      };
    }
    return null;
  }
}

export function checkGroupExclusion(history: readonly ProcessEvent[]): Violation | null {
  const checker = new GroupExclusionChecker();
  for (const e of history) {
    const v = checker.observe(e);
    if (v !== null) return v;
  }
  return null;
}
