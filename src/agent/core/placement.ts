// Choosing an owner for a group: which nodes may take it now, and in which
// order of preference. Pure functions over the committed records and the
// liveness view; the planner (placement-planner.ts) decides when to use them.

import type { NodeId } from '../consensus/types.js';
import type { FailbackWindow, GroupRecord, NodeRecord, ResourceRecord } from '../db/schema.js';
import type { NodeState } from './membership.js';

/** Why a node cannot take a group now. */
export type Unfit =
  | 'unknown-node'
  /** Witness agents vote but never run resources. */
  | 'witness-agent'
  | 'down' | 'joining' | 'paused'
  /** Not in the group's possible owners. */
  | 'not-possible-owner'
  /** Not in the possible owners of one of the group's resources. */
  | 'resource-not-possible-owner';

/** The node is in the possible owners of the group and of each of its resources (an empty list allows every node). */
export function isPossibleOwner(group: GroupRecord, resources: readonly ResourceRecord[], node: NodeId): boolean {
  return possibleOwnerProblems(group, resources, node).length === 0;
}

function possibleOwnerProblems(group: GroupRecord, resources: readonly ResourceRecord[], node: NodeId): Unfit[] {
  const out: Unfit[] = [];
  if (group.possibleOwners.length > 0 && !group.possibleOwners.includes(node)) out.push('not-possible-owner');
  if (resources.some((r) => r.possibleOwners.length > 0 && !r.possibleOwners.includes(node))) out.push('resource-not-possible-owner');
  return out;
}

/** Every reason `node` cannot start `group` now; empty when it can. `state` undefined: never heard of, Down. */
export function unfitReasons(
  node: NodeRecord | undefined,
  state: NodeState | undefined,
  group: GroupRecord,
  resources: readonly ResourceRecord[],
): Unfit[] {
  if (node === undefined) return ['unknown-node'];
  const out: Unfit[] = [];
  if (node.kind !== 'node') out.push('witness-agent');
  const live = state ?? 'Down';
  if (live === 'Down') out.push('down');
  else if (live === 'Joining') out.push('joining');
  // The database flag counts even when the liveness view has not caught up.
  if (live === 'Paused' || node.paused) out.push('paused');
  return [...out, ...possibleOwnerProblems(group, resources, node.id)];
}

/** Groups placed on each node, planned moves included, for load and anti-affinity. */
export class Occupancy {
  /** node → group name → the group's anti-affinity classes. */
  private readonly byNode = new Map<NodeId, Map<string, readonly string[]>>();

  place(group: GroupRecord, node: NodeId): void {
    let groups = this.byNode.get(node);
    if (groups === undefined) this.byNode.set(node, (groups = new Map()));
    groups.set(group.name, group.antiAffinityClasses);
  }

  remove(group: string, node: NodeId): void {
    this.byNode.get(node)?.delete(group);
  }

  load(node: NodeId): number {
    return this.byNode.get(node)?.size ?? 0;
  }

  /** Other groups on `node` that share an anti-affinity class with `group`. */
  clashes(node: NodeId, group: GroupRecord): number {
    if (group.antiAffinityClasses.length === 0) return 0;
    let count = 0;
    for (const [name, classes] of this.byNode.get(node) ?? []) {
      if (name !== group.name && classes.some((c) => group.antiAffinityClasses.includes(c))) count++;
    }
    return count;
  }
}

/** Position in the preferred owners; nodes not listed come after all listed ones. */
export function preferenceRank(group: GroupRecord, node: NodeId): number {
  const i = group.preferredOwners.indexOf(node);
  return i === -1 ? group.preferredOwners.length : i;
}

/**
 * `candidates` best first: fewest anti-affinity clashes (the rule is soft,
 * but it comes first so that it is broken only when every candidate breaks
 * it), then preferred-owner order, then fewest groups, then node id.
 */
export function rankCandidates(group: GroupRecord, candidates: readonly NodeId[], occupancy: Occupancy): NodeId[] {
  const keyed = candidates.map((node) => ({
    node,
    key: [occupancy.clashes(node, group), preferenceRank(group, node), occupancy.load(node)],
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const d = (a.key[i] as number) - (b.key[i] as number);
      if (d !== 0) return d;
    }
    return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
  });
  return keyed.map((k) => k.node);
}

/** The best candidate, not `avoid` (the node the group just failed on) unless it is the only one; null when there is none. */
export function chooseOwner(group: GroupRecord, candidates: readonly NodeId[], occupancy: Occupancy, avoid: NodeId | null): NodeId | null {
  const others = candidates.filter((n) => n !== avoid);
  return rankCandidates(group, others.length > 0 ? others : candidates, occupancy)[0] ?? null;
}

/** `wallHour` (0-23) is inside the window [startHour, endHour), which may wrap midnight (22-6: 22:00 to 06:00). */
export function inFailbackWindow(window: FailbackWindow, wallHour: number): boolean {
  const hour = Math.floor(wallHour);
  const { startHour, endHour } = window;
  return startHour < endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour;
}
