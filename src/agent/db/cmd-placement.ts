// Handlers of placement and resource state: which node owns each group in
// which epoch, and the state transitions of each resource. Every placement
// takes a new epoch from one cluster-wide counter, so a (group, epoch) pair
// in a lease grant names exactly one decision, even across a deleted and
// re-created group. A state report must name the current epoch: a late
// report from an earlier owner is refused, the same way on every node.

import type { CommandContext, Handler } from './input.js';
import type { GroupRecord, NodeRecord, ResourceState } from './schema.js';
import { findNode, sortedWhere } from './schema.js';
import { currentState, listNames, resourcesInGroup } from './queries.js';
import { show } from './names.js';

export const RESOURCE_STATES: readonly ResourceState[] = ['Offline', 'OnlinePending', 'Online', 'OfflinePending', 'Failed'];

/** Allowed transitions. A resource comes online and goes offline through the pending states; Online → Offline is a lost node or lease. */
export const RESOURCE_TRANSITIONS: Readonly<Record<ResourceState, readonly ResourceState[]>> = {
  Offline: ['OnlinePending', 'Failed'],
  OnlinePending: ['Online', 'OfflinePending', 'Offline', 'Failed'],
  Online: ['OfflinePending', 'Offline', 'Failed'],
  OfflinePending: ['Offline', 'Failed'],
  Failed: ['Offline', 'OnlinePending'],
};

/** States in which the resource is (or may be) running on a node: they need the owner and the current epoch. */
const ACTIVE: readonly ResourceState[] = ['OnlinePending', 'Online', 'OfflinePending'];

/**
 * Whether `node` may own `group`: a node that runs resources, a possible
 * owner of the group and of each of its resources. A paused node is
 * refused (forceable with `pausedForceable`); sharing an anti-affinity
 * class with a group already there is a warning.
 */
export function checkOwner({ state, sink }: CommandContext, group: GroupRecord, node: NodeRecord, field: string, pausedForceable: boolean): void {
  if (node.kind !== 'node') sink.error('E_INVALID_VALUE', `${node.name} is a witness agent, which never runs resources`, { field });
  if (node.paused) {
    const detail = { field, hint: `resume it first: node resume ${node.name}` };
    if (pausedForceable) sink.forceable('E_NODE_PAUSED', `node ${node.name} is paused`, detail);
    else sink.error('E_NODE_PAUSED', `node ${node.name} is paused`, detail);
  }
  if (group.possibleOwners.length > 0 && !group.possibleOwners.includes(node.id)) {
    sink.error('E_NOT_POSSIBLE_OWNER', `${node.name} is not a possible owner of group ${group.name}`, { field });
  }
  const refusing = resourcesInGroup(state, group.name).filter((r) => r.possibleOwners.length > 0 && !r.possibleOwners.includes(node.id));
  if (refusing.length > 0) {
    sink.error('E_NOT_POSSIBLE_OWNER', `${node.name} is not a possible owner of resources ${listNames(refusing.map((r) => r.name))}`, { field });
  }
  const clashes = sortedWhere(
    state.groups,
    (g) => g.name !== group.name && state.placements.get(g.name)?.node === node.id && g.antiAffinityClasses.some((c) => group.antiAffinityClasses.includes(c)),
  );
  if (clashes.length > 0) {
    sink.warning('E_ANTI_AFFINITY', `groups ${listNames(clashes.map((g) => g.name))} on ${node.name} share an anti-affinity class with ${group.name}`, { field });
  }
}

export const placementSet: Handler = (ctx) => {
  const { state, cmd, sink, at } = ctx;
  cmd.only(['type', 'group', 'node', 'expectedEpoch']);
  const groupName = cmd.name('group', 'group');
  const group = groupName === undefined ? undefined : state.groups.get(groupName);
  if (groupName !== undefined && !group) sink.error('E_NOT_FOUND', `no group ${groupName}`, { field: 'group' });
  const ref = cmd.get('node') === null || !cmd.present('node', true) ? null : cmd.string('node', true, 63);
  const node = typeof ref === 'string' ? findNode(state, ref) : undefined;
  if (typeof ref === 'string' && !node) sink.error('E_NOT_FOUND', `no node ${show(ref)}`, { field: 'node' });
  const expectedEpoch = cmd.integer('expectedEpoch', 0, Number.MAX_SAFE_INTEGER);
  if (!group || (ref !== null && !node)) return undefined;
  const current = state.placements.get(group.name)?.epoch ?? 0;
  if (expectedEpoch !== undefined && expectedEpoch !== current) {
    sink.error('E_CONFLICT', `group ${group.name} is in epoch ${current}, not ${expectedEpoch}: its placement changed meanwhile`, { field: 'expectedEpoch' });
  }
  if (node) checkOwner(ctx, group, node, 'node', true);
  return (s) => {
    s.placementEpoch += 1;
    s.placements.set(group.name, { group: group.name, node: node?.id ?? null, epoch: s.placementEpoch, at });
    // A move is over once the group is placed on a node (the first step of a move places it nowhere).
    if (node && group.move) s.groups.set(group.name, { ...group, move: null });
  };
};

export const resourceStateSet: Handler = ({ state, cmd, sink, at }) => {
  cmd.only(['type', 'resource', 'state', 'node', 'epoch', 'reason']);
  const name = cmd.name('resource', 'resource');
  const resource = name === undefined ? undefined : state.resources.get(name);
  if (name !== undefined && !resource) sink.error('E_NOT_FOUND', `no resource ${name}`, { field: 'resource' });
  const next = cmd.choice('state', RESOURCE_STATES, true);
  const ref = cmd.get('node') === null ? undefined : cmd.string('node', false, 63);
  const node = ref === undefined ? undefined : findNode(state, ref);
  if (ref !== undefined && !node) sink.error('E_NOT_FOUND', `no node ${show(ref)}`, { field: 'node' });
  const epoch = cmd.integer('epoch', 0, Number.MAX_SAFE_INTEGER);
  const reason = cmd.string('reason', false, 1024);
  if (!resource || next === undefined) return undefined;
  const placement = state.placements.get(resource.group) ?? { node: null, epoch: 0 };
  const active = ACTIVE.includes(next);
  if (active) {
    cmd.present('node', true);
    cmd.present('epoch', true);
  }
  if (epoch !== undefined && epoch !== placement.epoch) {
    sink.error('E_STALE_EPOCH', `the report is for epoch ${epoch}, but group ${resource.group} is in epoch ${placement.epoch}`, { field: 'epoch' });
  }
  if (active && node && placement.node !== node.id) {
    sink.error('E_NOT_OWNER', `group ${resource.group} is placed on ${placement.node ?? 'no node'}, not ${node.name}`, { field: 'node' });
  }
  const previous = currentState(state, resource.name, resource.group);
  if (!RESOURCE_TRANSITIONS[previous].includes(next)) {
    sink.error('E_INVALID_TRANSITION', `resource ${resource.name} cannot go from ${previous} to ${next}`, {
      field: 'state',
      hint: `from ${previous} it may go to ${RESOURCE_TRANSITIONS[previous].join(', ')}`,
    });
  }
  return (s) => {
    s.resourceStates.set(resource.name, { resource: resource.name, state: next, node: node?.id ?? null, epoch: placement.epoch, since: at, reason: reason ?? null });
  };
};
