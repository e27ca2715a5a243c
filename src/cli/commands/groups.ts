// fcm group list | show | create | delete | online | offline | move | set | cleanup.
//   --json: list prints GroupView[]; show and every change print the GroupView
//   (after waiting, for online, offline and move); delete prints
//   {index, deleted, resources}.
import type { GroupChange, GroupView } from '../../client/api.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { FcmError, UsageError } from '../errors.js';
import { renderGroup, renderGroupTable } from './group-views.js';
import { parseGroupSettings } from './settings.js';
import { groupIsOffline, groupIsOnline, settleGroup } from './settle.js';

const shown = (group: GroupView): CommandResult => ({ data: group, text: () => renderGroup(group) });

function warnAll(context: CommandContext, change: GroupChange): GroupView {
  for (const warning of change.warnings) context.warn(warning.message);
  return change.group;
}

export async function groupList(context: CommandContext): Promise<CommandResult> {
  const groups = await (await context.connect()).call('group.list', {});
  return { data: groups, text: () => (groups.length === 0 ? 'no groups: create one with fcm group create NAME\n' : renderGroupTable(groups)) };
}

export async function groupShow(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  return shown(await (await context.connect()).call('group.show', { group: invocation.args[0] as string }));
}

export async function groupCreate(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const settings = parseGroupSettings((invocation.args[1] as string[] | undefined) ?? []);
  const preferred = invocation.options.preferred as string[] | undefined;
  if (preferred !== undefined) {
    if (settings.preferredOwners !== undefined) throw new UsageError('--preferred and preferredOwners= say the same thing', 'give one of them');
    settings.preferredOwners = preferred;
  }
  const client = await context.connect();
  const change = await context.spin(`creating group ${name}`, () => client.call('group.create', { group: name, settings }));
  return shown(warnAll(context, change));
}

export async function groupSet(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const settings = parseGroupSettings(invocation.args[1] as string[]);
  const client = await context.connect();
  const change = await context.spin(`changing group ${name}`, () => client.call('group.set', { group: name, settings }));
  return shown(warnAll(context, change));
}

export async function groupDelete(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const group = await client.call('group.show', { group: name });
  const resources = group.resources.map((r) => r.name);
  const question = resources.length === 0 ? `Delete group ${name}?` : `Delete group ${name} and its resources ${resources.join(', ')}?`;
  if (!(await context.confirm(question))) throw new FcmError('E_CANCELLED', 'group delete cancelled; nothing was changed');
  const result = await context.spin(`deleting group ${name}`, () => client.call('group.delete', { group: name, force: context.globals.force }));
  const also = result.resources.length === 0 ? '' : ` with resources ${result.resources.join(', ')}`;
  return { data: result, text: `group ${name} deleted${also}` };
}

export async function groupOnline(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`bringing group ${name} online`, () => client.call('group.online', { group: name }));
  return shown(await settleGroup(context, client, warnAll(context, change), 'Online', groupIsOnline));
}

export async function groupOffline(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`taking group ${name} offline`, () => client.call('group.offline', { group: name }));
  return shown(await settleGroup(context, client, warnAll(context, change), 'Offline', groupIsOffline));
}

export async function groupMove(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const to = invocation.options.to as string | undefined;
  const client = await context.connect();
  const change = await context.spin(`moving group ${name}${to === undefined ? '' : ` to ${to}`}`, () => client.call('group.move', to === undefined ? { group: name } : { group: name, to }));
  const group = warnAll(context, change);
  // With --to, no move recorded means it is there already; without, it goes anywhere but where it ran (anywhere, if it ran nowhere).
  const target = to === undefined ? null : group.move?.to ?? group.owner;
  const from = group.move?.from ?? null;
  const arrived = (g: GroupView): boolean => groupIsOnline(g) && (target === null ? g.owner !== from : g.owner === target);
  const where = target ?? (from === null ? 'a node' : `a node other than ${from}`);
  return shown(await settleGroup(context, client, group, `Online on ${where}`, arrived));
}

export async function groupCleanup(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`cleaning up group ${name}`, () => client.call('group.cleanup', { group: name }));
  return shown(warnAll(context, change));
}
