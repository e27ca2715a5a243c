// Handlers of group commands, and the owner-list and restart-policy
// readers that resources share.

import type { CommandContext, Fields, Handler } from './input.js';
import type { FailbackMode, FailbackWindow, GroupRecord, RestartSettings } from './schema.js';
import { defaultGroup, findNode } from './schema.js';
import { listNames, resourcesInGroup } from './queries.js';
import { show } from './names.js';

const FAILBACK_MODES: readonly FailbackMode[] = ['never', 'immediate', 'window'];
const DAY_MS = 86_400_000;

/** Node names or ids → node ids; witness agents never run resources. */
export function readOwners({ state, sink }: CommandContext, fields: Fields, key: string): string[] | undefined {
  const refs = fields.names(key, 'node');
  if (refs === undefined) return undefined;
  const ids: string[] = [];
  refs.forEach((ref, i) => {
    const node = findNode(state, ref);
    const field = `${fields.pathOf(key)}[${i}]`;
    if (!node) sink.error('E_NOT_FOUND', `no node ${ref}`, { field });
    else if (node.kind !== 'node') sink.error('E_INVALID_VALUE', `${ref} is a witness agent, which never runs resources`, { field });
    else if (ids.includes(node.id)) sink.error('E_INVALID_VALUE', `${fields.pathOf(key)} names node ${node.name} twice`, { field });
    else ids.push(node.id);
  });
  return ids.length === refs.length ? ids : undefined;
}

export function readRestart(fields: Fields | undefined, base: RestartSettings): RestartSettings {
  if (!fields) return base;
  fields.only(['maxRestarts', 'period', 'delay', 'failGroupOver']);
  return {
    maxRestarts: fields.integer('maxRestarts', 0, 100) ?? base.maxRestarts,
    period: fields.duration('period', 1000, 7 * DAY_MS) ?? base.period,
    delay: fields.duration('delay', 0, 3_600_000) ?? base.delay,
    failGroupOver: fields.boolean('failGroupOver') ?? base.failGroupOver,
  };
}

function readWindow(fields: Fields): FailbackWindow | null | undefined {
  const raw = fields.get('failbackWindow');
  if (raw === null) return null;
  const text = fields.string('failbackWindow', false, 5);
  if (text === undefined) return undefined;
  const match = /^(\d{1,2})-(\d{1,2})$/.exec(text);
  const startHour = Number(match?.[1]);
  const endHour = Number(match?.[2]);
  if (!match || startHour > 23 || endHour > 23 || startHour === endHour) {
    return fields.invalid('failbackWindow', `failbackWindow ${show(text)} is not START-END in different hours 0-23`, 'e.g. 22-6: from 22:00 to 06:00');
  }
  return { startHour, endHour };
}

const GROUP_SETTINGS = [
  'preferredOwners', 'possibleOwners', 'failoverThreshold', 'failoverPeriod', 'failoverRetry', 'failback',
  'failbackWindow', 'antiAffinityClasses', 'priority', 'restart',
];

/** `base` with the settings given in `fields` applied; reports every problem. */
function readGroupSettings(ctx: CommandContext, fields: Fields | undefined, base: GroupRecord): GroupRecord {
  if (!fields) return base;
  fields.only(GROUP_SETTINGS);
  const next: GroupRecord = {
    ...base,
    preferredOwners: readOwners(ctx, fields, 'preferredOwners') ?? base.preferredOwners,
    possibleOwners: readOwners(ctx, fields, 'possibleOwners') ?? base.possibleOwners,
    failoverThreshold: fields.integer('failoverThreshold', 0, 1000) ?? base.failoverThreshold,
    failoverPeriod: fields.duration('failoverPeriod', 1000, 30 * DAY_MS) ?? base.failoverPeriod,
    // At least 1 s: a retry at once would make the threshold meaningless. Cleanup ends any hold sooner.
    failoverRetry: fields.duration('failoverRetry', 1000, 30 * DAY_MS) ?? base.failoverRetry,
    failback: fields.choice('failback', FAILBACK_MODES, false) ?? base.failback,
    antiAffinityClasses: fields.names('antiAffinityClasses', 'anti-affinity class') ?? base.antiAffinityClasses,
    priority: fields.integer('priority', 0, 3000) ?? base.priority,
    restart: readRestart(fields.object('restart', false), base.restart),
  };
  const window = fields.has('failbackWindow') ? readWindow(fields) : undefined;
  if (next.failback === 'window') {
    next.failbackWindow = window ?? base.failbackWindow;
    const invalid = fields.has('failbackWindow') && window === undefined;
    if (next.failbackWindow === null && !invalid) ctx.sink.error('E_REQUIRED', 'failback window needs failbackWindow', { field: fields.pathOf('failbackWindow') });
  } else {
    if (window) fields.invalid('failbackWindow', `failbackWindow applies only with failback window, not ${next.failback}`);
    next.failbackWindow = null;
  }
  const notPossible = next.possibleOwners.length === 0 ? [] : next.preferredOwners.filter((id) => !next.possibleOwners.includes(id));
  if (notPossible.length > 0) {
    fields.invalid('preferredOwners', `preferred owners ${listNames(notPossible)} are not possible owners`, 'add them to possibleOwners');
  }
  return next;
}

export const groupCreate: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name', 'settings']);
  const name = cmd.name('name', 'group');
  if (name !== undefined && state.groups.has(name)) sink.error('E_EXISTS', `group ${name} exists`, { field: 'name' });
  const group = readGroupSettings(ctx, cmd.object('settings', false), defaultGroup(name ?? ''));
  if (name === undefined) return undefined;
  return (s) => {
    s.groups.set(name, group);
  };
};

export const groupSet: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'name', 'settings']);
  const name = cmd.name('name', 'group');
  const group = name === undefined ? undefined : state.groups.get(name);
  if (name !== undefined && !group) sink.error('E_NOT_FOUND', `no group ${name}`, { field: 'name' });
  const settings = cmd.object('settings', true);
  if (settings && settings.keys().length === 0) sink.error('E_REQUIRED', 'settings must change something', { field: 'settings' });
  const next = readGroupSettings(ctx, settings, group ?? defaultGroup(name ?? ''));
  if (!group) return undefined;
  const owner = state.placements.get(group.name)?.node;
  if (owner && next.possibleOwners.length > 0 && !next.possibleOwners.includes(owner)) {
    sink.warning('E_NOT_POSSIBLE_OWNER', `group ${group.name} runs on ${owner}, which is no longer a possible owner: it will move`, { field: 'settings.possibleOwners' });
  }
  return (s) => {
    s.groups.set(group.name, next);
  };
};

export const groupDelete: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name']);
  const name = cmd.name('name', 'group');
  if (name !== undefined && !state.groups.has(name)) sink.error('E_NOT_FOUND', `no group ${name}`, { field: 'name' });
  if (name === undefined || !state.groups.has(name)) return undefined;
  const resources = resourcesInGroup(state, name).map((r) => r.name);
  if (resources.length > 0) {
    sink.forceable('E_IN_USE', `group ${name} has resources ${listNames(resources)}`, { field: 'name', hint: 'delete them first; forcing deletes them with the group' });
  }
  const running = resources.filter((r) => !['Offline', 'Failed'].includes(state.resourceStates.get(r)?.state ?? 'Offline'));
  if (running.length > 0) {
    sink.forceable('E_NOT_OFFLINE', `resources ${listNames(running)} of group ${name} are not offline`, { field: 'name', hint: 'take the group offline first' });
  }
  return (s) => {
    s.groups.delete(name);
    s.placements.delete(name);
    for (const resource of resources) {
      s.resources.delete(resource);
      s.resourceStates.delete(resource);
      s.resourceRequests.delete(resource);
    }
  };
};
