// One plan's view of its input: the committed records indexed and sorted,
// so that the planner's walks do not depend on the order it was given them
// in, and the occupancy that its own decisions update as it goes.

import type { NodeId } from '../consensus/types.js';
import type { GroupRecord, NodeRecord, PlacementRecord, ResourceRecord, ResourceStateRecord } from '../db/schema.js';
import type { NodeState } from './membership.js';
import type { PlaceAnswer, PlanInput } from './placement-decisions.js';
import type { Unfit } from './placement.js';
import { Occupancy, unfitReasons } from './placement.js';

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Where a group is now; a group never placed is nowhere, in epoch 0. */
export interface Where {
  node: NodeId | null;
  epoch: number;
}

export class PlanView {
  readonly now: number;
  readonly wallHour: number;
  readonly placeable: (group: string, node: NodeId) => PlaceAnswer;
  /** Node ids, sorted. */
  readonly nodeIds: NodeId[];
  /** Highest placement epoch committed so far. */
  readonly maxEpoch: number;
  /** Highest priority first, then by name: the order in which groups pick nodes. */
  readonly groups: GroupRecord[];
  readonly occupancy = new Occupancy();
  private readonly nodes = new Map<NodeId, NodeRecord>();
  private readonly liveness = new Map<NodeId, NodeState>();
  private readonly groupsByName = new Map<string, GroupRecord>();
  private readonly resourcesByGroup = new Map<string, ResourceRecord[]>();
  private readonly placements = new Map<string, PlacementRecord>();
  private readonly states = new Map<string, ResourceStateRecord>();

  constructor(input: PlanInput) {
    this.now = input.now;
    this.wallHour = input.wallHour;
    this.placeable = input.placeable;
    const c = input.committed;
    for (const n of c.nodes) this.nodes.set(n.id, n);
    this.nodeIds = [...this.nodes.keys()].sort();
    for (const l of input.liveness) this.liveness.set(l.node, l.state);
    this.groups = [...c.groups].sort((a, b) => b.priority - a.priority || byName(a, b));
    for (const g of this.groups) this.groupsByName.set(g.name, g);
    for (const r of [...c.resources].sort(byName)) {
      const list = this.resourcesByGroup.get(r.group);
      if (list === undefined) this.resourcesByGroup.set(r.group, [r]);
      else list.push(r);
    }
    for (const p of c.placements) this.placements.set(p.group, p);
    for (const s of c.resourceStates) this.states.set(s.resource, s);
    let maxEpoch = 0;
    for (const p of this.placements.values()) {
      maxEpoch = Math.max(maxEpoch, p.epoch);
      const group = this.groupsByName.get(p.group);
      if (group !== undefined && p.node !== null) this.occupancy.place(group, p.node);
    }
    this.maxEpoch = maxEpoch;
  }

  node(id: NodeId): NodeRecord | undefined {
    return this.nodes.get(id);
  }

  /** A node by id, or else by name. */
  findNode(ref: string): NodeRecord | undefined {
    return this.nodes.get(ref) ?? this.nodeIds.map((id) => this.nodes.get(id) as NodeRecord).find((n) => n.name === ref);
  }

  /** The liveness state; a node the view does not know is Down. */
  state(node: NodeId): NodeState {
    return this.liveness.get(node) ?? 'Down';
  }

  /** The node is a member and not Down (it may still be running what it was granted). */
  reachable(node: NodeId): boolean {
    return this.nodes.has(node) && this.state(node) !== 'Down';
  }

  group(name: string): GroupRecord | undefined {
    return this.groupsByName.get(name);
  }

  /** The group's resources, by name. */
  resources(group: string): readonly ResourceRecord[] {
    return this.resourcesByGroup.get(group) ?? [];
  }

  where(group: string): Where {
    const p = this.placements.get(group);
    return p === undefined ? { node: null, epoch: 0 } : { node: p.node, epoch: p.epoch };
  }

  /** The resource's state record if it belongs to placement epoch `epoch`. */
  resourceState(resource: string, epoch: number): ResourceStateRecord | undefined {
    const s = this.states.get(resource);
    return s !== undefined && s.epoch === epoch ? s : undefined;
  }

  unfit(node: NodeId, group: GroupRecord): Unfit[] {
    return unfitReasons(this.nodes.get(node), this.liveness.get(node), group, this.resources(group.name));
  }

  /** Nodes that may start `group` now, by id. */
  candidates(group: GroupRecord): NodeId[] {
    return this.nodeIds.filter((n) => this.unfit(n, group).length === 0);
  }
}
