// Human renderings of groups, resources and resource types. --json prints
// the API's GroupView, ResourceView and ResourceTypeView themselves.
import type { GroupView, ResourceTypeView, ResourceView } from '../../client/api.js';
import type { DesiredState, GroupState, ResourceState, RestartSettings } from '../../agent/db/schema.js';
import { formatDuration } from '../../agent/db/names.js';
import { renderKeyValues, renderTable } from '../render.js';

/** `2 of 3 online`; `none` for a group without resources. */
export function onlineCount(group: GroupView): string {
  if (group.resources.length === 0) return 'none';
  return `${group.resources.filter((r) => r.state === 'Online').length} of ${group.resources.length} online`;
}

/** The desired state in the words people use: `online`, `offline`, `move to node2`. */
export function wanted(group: GroupView): string {
  if (group.move === null) return group.desired;
  return `move to ${group.move.to ?? 'another node'}`;
}

export function renderGroupTable(groups: readonly GroupView[]): string {
  return renderTable(
    ['NAME', 'STATE', 'OWNER', 'WANTED', 'RESOURCES'],
    groups.map((g) => [g.name, g.state, g.owner, wanted(g), onlineCount(g)]),
  );
}

export function restartWords(restart: RestartSettings): string {
  const then = restart.failGroupOver ? 'then fail the group over' : 'then stay failed';
  return `${restart.maxRestarts} in ${formatDuration(restart.period)}, after ${formatDuration(restart.delay)}; ${then}`;
}

const list = (items: readonly string[], empty: string): string => (items.length === 0 ? empty : items.join(', '));

export function renderGroup(group: GroupView): string {
  const failback = group.failback === 'window' && group.failbackWindow !== null
    ? `in a window, ${group.failbackWindow.startHour}:00-${group.failbackWindow.endHour}:00`
    : group.failback;
  const header = renderKeyValues([
    ['name', group.name],
    ['state', group.state],
    ['owner', group.owner ?? 'none'],
    ['wanted', wanted(group)],
    ['epoch', group.epoch],
    ['preferred owners', list(group.preferredOwners, 'none')],
    ['possible owners', list(group.possibleOwners, 'every node')],
    ['failover', `at most ${group.failoverThreshold} in ${formatDuration(group.failoverPeriod)}, then held Failed for ${formatDuration(group.failoverRetry)} or until cleanup`],
    ['failback', failback],
    ['anti-affinity', list(group.antiAffinityClasses, 'none')],
    ['priority', group.priority],
    ['restart', restartWords(group.restart)],
  ]);
  if (group.resources.length === 0) return `${header}\nno resources: add one with fcm resource create NAME --group ${group.name} --type TYPE\n`;
  return `${header}\n${renderResourceTable(group.resources, false)}`;
}

export function renderResourceTable(resources: readonly ResourceView[], withGroup = true): string {
  const headers = ['NAME', ...(withGroup ? ['GROUP'] : []), 'TYPE', 'STATE', 'WANTED', 'NODE', 'DEPENDS ON'];
  return renderTable(headers, resources.map((r) => [r.name, ...(withGroup ? [r.group] : []), r.type, r.state, r.desired, r.node, r.dependsOn]));
}

export function renderResource(resource: ResourceView): string {
  const parameters = Object.entries(resource.parameters).map(([key, value]) => [`  ${key}`, value] as const);
  return renderKeyValues([
    ['name', resource.name],
    ['group', resource.group],
    ['type', resource.type],
    ['state', resource.reason === null ? resource.state : `${resource.state} (${resource.reason})`],
    ['wanted', resource.desired],
    ['node', resource.node],
    ['depends on', resource.dependsOn ?? 'nothing'],
    ['restart', resource.restart === null ? 'as its group' : restartWords(resource.restart)],
    ['deadlines', `start ${formatDuration(resource.deadlines.start)}, stop ${formatDuration(resource.deadlines.stop)}, `
      + `checks ${formatDuration(resource.deadlines.quickCheck)} / ${formatDuration(resource.deadlines.thoroughCheck)}`],
    ['checks every', `${formatDuration(resource.checkIntervals.quick)} (quick), ${formatDuration(resource.checkIntervals.thorough)} (thorough)`],
    ['possible owners', list(resource.possibleOwners, 'as its group')],
    ['isolated', resource.isolate ? 'yes: a resource monitor of its own' : 'no'],
    ['parameters', parameters.length === 0 ? 'none' : parameters.length],
    ...parameters,
  ]);
}

/** Longest parameter list shown in the types table, in characters. */
const PARAMETERS_WIDTH = 60;

export function renderTypes(types: readonly ResourceTypeView[]): string {
  return renderTable(
    ['NAME', 'KIND', 'REGISTERED', 'PARAMETERS (* required)'],
    types.map((t) => {
      const names = t.problem !== null ? `unreadable: ${t.problem}` : t.parameters.map((p) => (p.required && p.default === null ? `${p.name}*` : p.name)).join(', ');
      return [t.name, t.kind, t.registered ? 'yes' : 'no', names.length > PARAMETERS_WIDTH ? `${names.slice(0, PARAMETERS_WIDTH - 3)}...` : names];
    }),
  );
}

/** A group at a glance, as fcm status --json shows it. */
export interface GroupSummary {
  name: string;
  state: GroupState;
  desired: DesiredState;
  owner: string | null;
  resources: { name: string; state: ResourceState; desired: DesiredState }[];
}

export function summarize(groups: readonly GroupView[]): GroupSummary[] {
  return groups.map((g) => ({
    name: g.name, state: g.state, desired: g.desired, owner: g.owner,
    resources: g.resources.map((r) => ({ name: r.name, state: r.state, desired: r.desired })),
  }));
}

/** Every group with its owner and each resource's state: `ip1 Online, app Offline (wanted offline)`. */
export function renderGroupsAtAGlance(groups: readonly GroupSummary[]): string {
  if (groups.length === 0) return 'groups: none\n';
  return renderTable(
    ['GROUP', 'STATE', 'OWNER', 'WANTED', 'RESOURCES'],
    groups.map((g) => [
      g.name, g.state, g.owner, g.desired,
      g.resources.map((r) => `${r.name} ${r.state}${r.desired === 'offline' ? ' (wanted offline)' : ''}`).join(', ') || 'none',
    ]),
  );
}
