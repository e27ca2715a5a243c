// Handlers of resource commands: create, set, depend, delete.

import type { CommandContext, Fields, Handler } from './input.js';
import type { DependencyExpr } from './dependency.js';
import type { ResourceRecord, RestartSettings } from './schema.js';
import { DEFAULT_CHECK_INTERVALS, DEFAULT_DEADLINES, DEFAULT_RESTART, defaultRequests, sortedWhere } from './schema.js';
import { RESERVED_WORDS, dependencyNames, findCycle, parseDependency, withoutResource } from './dependency.js';
import { TEXT_MAX_LENGTH } from './input.js';
import { checkParameters } from './cmd-types.js';
import { effectiveProperties } from './properties.js';
import { isAbsolutePath, show, validateName } from './names.js';
import { listNames, resourceKind, resourcesInGroup } from './queries.js';
import { readOwners, readRestart } from './cmd-groups.js';
import { didYouMean } from './suggest.js';

const HOUR_MS = 3_600_000;

type ResourceSettings = Pick<ResourceRecord, 'restart' | 'deadlines' | 'checkIntervals' | 'possibleOwners' | 'isolate'>;

function readParameters(cmd: Fields, allowNull: boolean): Map<string, string | null> {
  const fields = cmd.object('parameters', false);
  const out = new Map<string, string | null>();
  for (const key of fields?.keys() ?? []) {
    const problem = validateName(key, 'parameter', `parameters.${key}`);
    if (problem) cmd.sink.add(problem);
    const value = allowNull && fields?.get(key) === null ? null : fields?.string(key, true);
    if (!problem && value !== undefined) out.set(key, value);
  }
  return out;
}

function readSettings(ctx: CommandContext, fields: Fields | undefined, base: ResourceSettings, groupRestart: RestartSettings): ResourceSettings {
  if (!fields) return base;
  fields.only(['restart', 'deadlines', 'checkIntervals', 'possibleOwners', 'isolate']);
  const deadlines = fields.object('deadlines', false);
  deadlines?.only(['start', 'stop', 'quickCheck', 'thoroughCheck']);
  const intervals = fields.object('checkIntervals', false);
  intervals?.only(['quick', 'thorough']);
  const restartGiven = fields.has('restart') && fields.get('restart') !== null;
  const next: ResourceSettings = {
    restart: restartGiven ? readRestart(fields.object('restart', true), base.restart ?? groupRestart) : fields.get('restart') === null ? null : base.restart,
    deadlines: {
      start: deadlines?.duration('start', 100, HOUR_MS) ?? base.deadlines.start,
      stop: deadlines?.duration('stop', 100, HOUR_MS) ?? base.deadlines.stop,
      quickCheck: deadlines?.duration('quickCheck', 100, HOUR_MS) ?? base.deadlines.quickCheck,
      thoroughCheck: deadlines?.duration('thoroughCheck', 100, HOUR_MS) ?? base.deadlines.thoroughCheck,
    },
    checkIntervals: {
      quick: intervals?.duration('quick', 100, 24 * HOUR_MS) ?? base.checkIntervals.quick,
      thorough: intervals?.duration('thorough', 100, 24 * HOUR_MS) ?? base.checkIntervals.thorough,
    },
    possibleOwners: readOwners(ctx, fields, 'possibleOwners') ?? base.possibleOwners,
    isolate: fields.boolean('isolate') ?? base.isolate,
  };
  if (next.checkIntervals.quick > next.checkIntervals.thorough) {
    ctx.sink.warning('E_INVALID_VALUE', 'the quick check runs less often than the thorough one', { field: 'settings.checkIntervals.quick' });
  }
  return next;
}

/** `{ expr }` (null: no dependencies) when the field is present and parses; undefined otherwise. */
function readDependency(fields: Fields, key: string, required: boolean): { expr: DependencyExpr | null } | undefined {
  if (!fields.present(key, required)) return undefined;
  const text = fields.get(key);
  if (typeof text !== 'string' || text.length > TEXT_MAX_LENGTH) return fields.invalid(key, `${key} must be an expression such as "A and (B or C)"`);
  if (text.trim() === '') return { expr: null };
  const parsed = parseDependency(text);
  if (parsed.ok) return { expr: parsed.expr };
  fields.sink.error('E_DEPENDENCY_SYNTAX', `${parsed.message} (at character ${parsed.position + 1} of ${show(text)})`, {
    field: key,
    hint: 'write resource names joined by and/or, with parentheses: A and (B or C)',
  });
  return undefined;
}

/** References must be resources of the same group, and the group's dependencies must stay acyclic. */
function checkDependencies({ state, sink }: CommandContext, resource: string, group: string, expr: DependencyExpr, field: string): void {
  for (const name of dependencyNames(expr)) {
    const target = state.resources.get(name);
    if (!target && name !== resource) {
      sink.error('E_NOT_FOUND', `no resource ${name}`, { field, hint: didYouMean(name, resourcesInGroup(state, group).map((r) => r.name)) });
    } else if (target && target.group !== group) {
      sink.error('E_DEPENDENCY_OUTSIDE_GROUP', `${name} is in group ${target.group}; a resource depends only on resources of its own group ${group}`, { field });
    }
  }
  const edges = new Map(resourcesInGroup(state, group).map((r) => [r.name, r.dependsOn ? dependencyNames(r.dependsOn) : []]));
  edges.set(resource, dependencyNames(expr));
  const cycle = findCycle(edges);
  if (cycle) sink.error('E_DEPENDENCY_CYCLE', `dependency cycle: ${cycle.join(' → ')}`, { field });
}

/** A disk resource names a cluster disk no other resource uses; mounting a filesystem needs fencing. */
function checkDiskResource({ state, sink }: CommandContext, resource: string, parameters: ReadonlyMap<string, string | null>, previous: Record<string, string>): void {
  const disk = parameters.get('disk');
  if (disk) {
    if (!state.disks.has(disk)) sink.error('E_NOT_FOUND', `no disk ${disk}`, { field: 'parameters.disk', hint: 'add it with disk add' });
    const [other] = sortedWhere(state.resources, (r) => r.name !== resource && resourceKind(state, r) === 'disk' && r.parameters['disk'] === disk);
    if (other) sink.error('E_IN_USE', `disk ${disk} is already used by resource ${other.name}`, { field: 'parameters.disk' });
  }
  const mountpoint = parameters.get('mountpoint');
  if (!mountpoint || mountpoint === previous['mountpoint']) return;
  if (!isAbsolutePath(mountpoint)) sink.error('E_INVALID_VALUE', `mountpoint ${show(mountpoint)} is not an absolute path`, { field: 'parameters.mountpoint' });
  if (effectiveProperties(state.properties).fencing === 'none') {
    sink.forceable('E_FENCING_REQUIRED', 'mounting a filesystem needs fencing watchdog or external: dirty pages of killed processes still reach the disk', {
      field: 'parameters.mountpoint',
      hint: 'config set fencing=watchdog',
    });
  }
}

function storedParameters(parameters: ReadonlyMap<string, string | null>): Record<string, string> {
  return Object.fromEntries([...parameters].filter((entry): entry is [string, string] => entry[1] !== null).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const resourceCreate: Handler = (ctx) => {
  const { state, cmd, sink, at } = ctx;
  cmd.only(['type', 'name', 'group', 'resourceType', 'parameters', 'dependsOn', 'settings']);
  const name = cmd.name('name', 'resource');
  if (name !== undefined && RESERVED_WORDS.includes(name.toLowerCase())) {
    sink.error('E_INVALID_NAME', `${name} cannot name a resource: it is a word of dependency expressions`, { field: 'name' });
  }
  if (name !== undefined && state.resources.has(name)) sink.error('E_EXISTS', `resource ${name} exists`, { field: 'name' });
  const groupName = cmd.name('group', 'group');
  const group = groupName === undefined ? undefined : state.groups.get(groupName);
  if (groupName !== undefined && !group) sink.error('E_NOT_FOUND', `no group ${groupName}`, { field: 'group' });
  const typeName = cmd.typeName('resourceType');
  const type = typeName === undefined ? undefined : state.resourceTypes.get(typeName);
  if (typeName !== undefined && !type) {
    sink.error('E_NOT_FOUND', `no resource type ${typeName}`, {
      field: 'resourceType',
      hint: didYouMean(typeName, state.resourceTypes.keys()) ?? 'resource types lists the types, and OCF agents as ocf:PROVIDER:AGENT',
    });
  }
  const parameters = readParameters(cmd, false);
  if (type) checkParameters(type, parameters, sink);
  if (type?.kind === 'disk' && name !== undefined) checkDiskResource(ctx, name, parameters, {});
  const dependency = readDependency(cmd, 'dependsOn', false);
  if (dependency?.expr && name !== undefined && group) checkDependencies(ctx, name, group.name, dependency.expr, 'dependsOn');
  const base: ResourceSettings = { restart: null, deadlines: DEFAULT_DEADLINES, checkIntervals: DEFAULT_CHECK_INTERVALS, possibleOwners: [], isolate: false };
  const settings = readSettings(ctx, cmd.object('settings', false), base, group?.restart ?? DEFAULT_RESTART);
  if (name === undefined || !group || !type) return undefined;
  const record: ResourceRecord = { name, group: group.name, type: type.name, parameters: storedParameters(parameters), dependsOn: dependency?.expr ?? null, ...settings };
  return (s) => {
    s.resources.set(name, record);
    s.resourceStates.set(name, { resource: name, state: 'Offline', node: null, epoch: 0, since: at, reason: null });
    s.resourceRequests.set(name, defaultRequests(name));
  };
};

export const resourceSet: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name', 'parameters', 'settings']);
  const name = cmd.name('name', 'resource');
  const resource = name === undefined ? undefined : state.resources.get(name);
  if (name !== undefined && !resource) sink.error('E_NOT_FOUND', `no resource ${name}`, { field: 'name' });
  if (!cmd.has('parameters') && !cmd.has('settings')) sink.error('E_REQUIRED', 'nothing to change', { hint: 'give parameters or settings' });
  const changes = readParameters(cmd, true);
  if (!resource) return undefined;
  const parameters = new Map<string, string | null>([...Object.entries(resource.parameters), ...changes]);
  const type = state.resourceTypes.get(resource.type);
  if (type) checkParameters(type, parameters, sink);
  if (type?.kind === 'disk') checkDiskResource(ctx, resource.name, parameters, resource.parameters);
  const group = state.groups.get(resource.group);
  const settings = readSettings(ctx, cmd.object('settings', false), resource, group?.restart ?? DEFAULT_RESTART);
  const owner = state.placements.get(resource.group)?.node;
  if (owner && settings.possibleOwners.length > 0 && !settings.possibleOwners.includes(owner)) {
    sink.warning('E_NOT_POSSIBLE_OWNER', `group ${resource.group} runs on ${owner}, which is no longer a possible owner of ${resource.name}: it will move`, {
      field: 'settings.possibleOwners',
    });
  }
  const record: ResourceRecord = { ...resource, ...settings, parameters: storedParameters(parameters) };
  return (s) => {
    s.resources.set(record.name, record);
  };
};

export const resourceDepend: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name', 'on']);
  const name = cmd.name('name', 'resource');
  const resource = name === undefined ? undefined : state.resources.get(name);
  if (name !== undefined && !resource) sink.error('E_NOT_FOUND', `no resource ${name}`, { field: 'name' });
  const dependency = readDependency(cmd, 'on', true);
  if (!resource || !dependency) return undefined;
  if (dependency.expr) checkDependencies(ctx, resource.name, resource.group, dependency.expr, 'on');
  return (s) => {
    s.resources.set(resource.name, { ...resource, dependsOn: dependency.expr });
  };
};

export const resourceDelete: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name']);
  const name = cmd.name('name', 'resource');
  const resource = name === undefined ? undefined : state.resources.get(name);
  if (name !== undefined && !resource) sink.error('E_NOT_FOUND', `no resource ${name}`, { field: 'name' });
  if (!resource) return undefined;
  const dependents = resourcesInGroup(state, resource.group).filter((r) => r.dependsOn && dependencyNames(r.dependsOn).includes(resource.name));
  if (dependents.length > 0) {
    sink.forceable('E_IN_USE', `resources ${listNames(dependents.map((r) => r.name))} depend on ${resource.name}`, {
      field: 'name',
      hint: 'change their dependencies first; forcing takes it out of their expressions',
    });
  }
  const current = state.resourceStates.get(resource.name)?.state ?? 'Offline';
  if (current !== 'Offline' && current !== 'Failed') {
    sink.forceable('E_NOT_OFFLINE', `resource ${resource.name} is ${current}`, { field: 'name', hint: 'take it offline first' });
  }
  return (s) => {
    s.resources.delete(resource.name);
    s.resourceStates.delete(resource.name);
    s.resourceRequests.delete(resource.name);
    for (const dependent of dependents) {
      s.resources.set(dependent.name, { ...dependent, dependsOn: withoutResource(dependent.dependsOn as DependencyExpr, resource.name) });
    }
  };
};
