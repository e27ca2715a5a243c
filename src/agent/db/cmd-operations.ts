// Handlers of what administrators ask of groups and resources at run time:
// online, offline, move, fail, cleanup. They record what is wanted, not
// configuration; the leader's placement planner and the nodes carry it out
// and report the states that follow. Asking for what is already wanted
// succeeds and changes nothing but the version, so that a retried command
// is harmless.

import type { CommandContext, Handler } from './input.js';
import type { ClusterState, DesiredState, GroupMove, GroupRecord, NodeRecord, ResourceRecord, ResourceRequestRecord, ResourceStateRecord } from './schema.js';
import { checkOwner } from './cmd-placement.js';
import { currentState, listNames, resourcesInGroup } from './queries.js';
import { dependencyHolds } from './dependency.js';
import { ReportSink } from './report.js';
import { defaultRequests, findNode, sortedWhere } from './schema.js';
import { show } from './names.js';

function readGroup({ state, cmd, sink }: CommandContext): GroupRecord | undefined {
  const name = cmd.name('name', 'group');
  const group = name === undefined ? undefined : state.groups.get(name);
  if (name !== undefined && !group) sink.error('E_NOT_FOUND', `no group ${name}`, { field: 'name', hint: 'see group list' });
  return group;
}

function readResource({ state, cmd, sink }: CommandContext): ResourceRecord | undefined {
  const name = cmd.name('name', 'resource');
  const resource = name === undefined ? undefined : state.resources.get(name);
  if (name !== undefined && !resource) sink.error('E_NOT_FOUND', `no resource ${name}`, { field: 'name', hint: 'see resource list' });
  return resource;
}

/**
 * Resources of `group` that cannot run while the resources in `offline`
 * are kept offline: those and, transitively, every resource whose
 * dependencies then cannot hold.
 */
function notRunnable(state: ClusterState, group: string, offline: ReadonlySet<string>): Set<string> {
  const out = new Set(offline);
  const resources = resourcesInGroup(state, group);
  for (let changed = true; changed;) {
    changed = false;
    for (const r of resources) {
      if (out.has(r.name) || r.dependsOn === null || dependencyHolds(r.dependsOn, (name) => !out.has(name))) continue;
      out.add(r.name);
      changed = true;
    }
  }
  return out;
}

/** Resources of the group that administrators keep offline. */
function desiredOffline(state: ClusterState, group: string): Set<string> {
  return new Set(resourcesInGroup(state, group).filter((r) => state.resourceRequests.get(r.name)?.desired === 'offline').map((r) => r.name));
}

/** Failed resources of the group's current placement become Offline, so that they may start afresh. */
function cleanedStates(state: ClusterState, resources: readonly ResourceRecord[], at: number): ResourceStateRecord[] {
  return resources
    .filter((r) => currentState(state, r.name, r.group) === 'Failed')
    .map((r) => ({ ...(state.resourceStates.get(r.name) as ResourceStateRecord), state: 'Offline' as const, since: at, reason: 'cleaned up by an administrator' }));
}

const setGroupDesired = (desired: DesiredState): Handler => (ctx) => {
  ctx.cmd.only(['type', 'name']);
  const group = readGroup(ctx);
  if (!group) return undefined;
  // Offline ends a move too: the group is to run nowhere.
  const next: GroupRecord = desired === 'offline' ? { ...group, desired, move: null } : { ...group, desired };
  return (s) => {
    s.groups.set(group.name, next);
  };
};

export const groupOnline = setGroupDesired('online');
export const groupOffline = setGroupDesired('offline');

export const groupMove: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name', 'to']);
  const group = readGroup(ctx);
  const ref = cmd.get('to') === null ? undefined : cmd.string('to', false, 63);
  const target = ref === undefined ? undefined : findNode(state, ref);
  if (ref !== undefined && !target) sink.error('E_NOT_FOUND', `no node ${show(ref)}`, { field: 'to', hint: 'see node list' });
  if (!group || (ref !== undefined && !target)) return undefined;
  const owner = state.placements.get(group.name)?.node ?? null;
  let move: GroupMove | null;
  if (target) {
    checkOwner(ctx, group, target, 'to', false);
    // Already there: nothing to move.
    move = target.id === owner ? null : { to: target.id, from: owner };
  } else {
    const mayOwn = (node: NodeRecord): boolean => {
      const probe = new ReportSink(false);
      checkOwner({ ...ctx, sink: probe }, group, node, 'to', false);
      return !probe.hasErrors;
    };
    if (owner !== null && !sortedWhere(state.nodes, (n) => n.id !== owner).some(mayOwn)) {
      sink.error('E_NO_CANDIDATE', `no node other than ${findNode(state, owner)?.name ?? owner} may run group ${group.name}`, {
        field: 'to',
        hint: 'resume a paused node, or widen the possible owners of the group and its resources',
      });
    }
    move = owner === null ? null : { to: null, from: owner };
  }
  const next: GroupRecord = { ...group, desired: 'online', move };
  return (s) => {
    s.groups.set(group.name, next);
  };
};

export const groupCleanup: Handler = (ctx) => {
  ctx.cmd.only(['type', 'name']);
  const group = readGroup(ctx);
  if (!group) return undefined;
  const cleaned = cleanedStates(ctx.state, resourcesInGroup(ctx.state, group.name), ctx.at);
  return (s) => {
    s.groups.set(group.name, { ...group, cleanupRequest: group.cleanupRequest + 1 });
    for (const record of cleaned) s.resourceStates.set(record.resource, record);
  };
};

/** The resource's requests with `change` made. */
function requests(state: ClusterState, resource: ResourceRecord, change: (r: ResourceRequestRecord) => Partial<ResourceRequestRecord>): ResourceRequestRecord {
  const current = state.resourceRequests.get(resource.name) ?? defaultRequests(resource.name);
  return { ...current, ...change(current) };
}

export const resourceOnline: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name']);
  const resource = readResource(ctx);
  if (!resource) return undefined;
  const group = state.groups.get(resource.group) as GroupRecord;
  if (group.desired === 'offline') {
    sink.warning('E_GROUP_OFFLINE', `group ${group.name} is offline: ${resource.name} starts when the group comes online`, { field: 'name', hint: `group online ${group.name}` });
  }
  const offline = desiredOffline(state, group.name);
  offline.delete(resource.name);
  if (notRunnable(state, group.name, offline).has(resource.name)) {
    sink.warning('E_DEPENDENCY_OFFLINE', `${resource.name} waits for its dependencies, which are kept offline`, { field: 'name', hint: 'bring them online first' });
  }
  const record = requests(state, resource, () => ({ desired: 'online' }));
  return (s) => {
    s.resourceRequests.set(resource.name, record);
  };
};

export const resourceOffline: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name']);
  const resource = readResource(ctx);
  if (!resource) return undefined;
  const offline = desiredOffline(state, resource.group);
  const before = notRunnable(state, resource.group, offline);
  const after = notRunnable(state, resource.group, new Set([...offline, resource.name]));
  const dependents = [...after].filter((name) => name !== resource.name && !before.has(name)).sort();
  if (dependents.length > 0) {
    sink.warning('E_IN_USE', `resources ${listNames(dependents)} depend on ${resource.name}: they go offline with it`, { field: 'name' });
  }
  const record = requests(state, resource, () => ({ desired: 'offline' }));
  return (s) => {
    s.resourceRequests.set(resource.name, record);
  };
};

export const resourceFail: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name']);
  const resource = readResource(ctx);
  if (!resource) return undefined;
  const now = currentState(state, resource.name, resource.group);
  if (now !== 'Online') {
    sink.error('E_NOT_ONLINE', `resource ${resource.name} is ${now}: only an online resource can fail`, { field: 'name', hint: `bring it online first: resource online ${resource.name}` });
  }
  const record = requests(state, resource, (r) => ({ failRequest: r.failRequest + 1 }));
  return (s) => {
    s.resourceRequests.set(resource.name, record);
  };
};

export const resourceCleanup: Handler = (ctx) => {
  ctx.cmd.only(['type', 'name']);
  const resource = readResource(ctx);
  if (!resource) return undefined;
  const cleaned = cleanedStates(ctx.state, [resource], ctx.at);
  const record = requests(ctx.state, resource, (r) => ({ cleanupRequest: r.cleanupRequest + 1 }));
  return (s) => {
    s.resourceRequests.set(resource.name, record);
    for (const state of cleaned) s.resourceStates.set(state.resource, state);
  };
};
