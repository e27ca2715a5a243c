// fcm resource list | show | types | create | delete | online | offline | fail | set | depend | cleanup.
//   --json: list prints ResourceView[]; show and every change print the
//   ResourceView (after waiting, for online and offline); types prints
//   ResourceTypeView[]; delete prints {index, deleted}.
import type { ResourceChange, ResourceView } from '../../client/api.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { UsageError } from '../errors.js';
import { parseName } from '../parse.js';
import { renderResource, renderResourceTable, renderTypes } from './group-views.js';
import { parseResourceSettings } from './settings.js';
import { settleResource } from './settle.js';

const shown = (resource: ResourceView): CommandResult => ({ data: resource, text: () => renderResource(resource) });

function warnAll(context: CommandContext, change: ResourceChange): ResourceView {
  for (const warning of change.warnings) context.warn(warning.message);
  return change.resource;
}

/** A type name as `resource types` lists them: a name, or `ocf:PROVIDER:AGENT`. */
export function parseTypeName(text: string): string {
  if (!text.startsWith('ocf:')) return parseName(text, 'type');
  const parts = text.split(':');
  if (parts.length !== 3) throw new UsageError(`invalid type '${text}': an OCF agent is ocf:PROVIDER:AGENT`, 'see fcm resource types');
  parseName(parts[1] ?? '', 'OCF provider');
  parseName(parts[2] ?? '', 'OCF agent');
  return text;
}

export async function resourceList(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const group = invocation.options.group as string | undefined;
  const resources = await (await context.connect()).call('resource.list', group === undefined ? {} : { group });
  return { data: resources, text: () => (resources.length === 0 ? 'no resources\n' : renderResourceTable(resources)) };
}

export async function resourceShow(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  return shown(await (await context.connect()).call('resource.show', { resource: invocation.args[0] as string }));
}

export async function resourceTypes(context: CommandContext): Promise<CommandResult> {
  const client = await context.connect();
  const types = await context.spin('reading the resource types', () => client.call('resource.types', {}));
  return { data: types, text: () => renderTypes(types) };
}

export async function resourceCreate(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const type = parseTypeName(invocation.options.type as string);
  const { parameters, settings } = parseResourceSettings((invocation.args[1] as string[] | undefined) ?? [], false);
  const client = await context.connect();
  const change = await context.spin(`creating resource ${name}`, () => client.call('resource.create', {
    resource: name, group: invocation.options.group as string, type, parameters: parameters as Record<string, string>, settings, force: context.globals.force,
  }));
  return shown(warnAll(context, change));
}

export async function resourceSet(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const { parameters, settings } = parseResourceSettings(invocation.args[1] as string[], true);
  const client = await context.connect();
  const change = await context.spin(`changing resource ${name}`, () => client.call('resource.set', {
    resource: name,
    ...(Object.keys(parameters).length === 0 ? {} : { parameters }),
    ...(Object.keys(settings).length === 0 ? {} : { settings }),
    force: context.globals.force,
  }));
  return shown(warnAll(context, change));
}

export async function resourceDepend(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`changing what ${name} depends on`, () => client.call('resource.depend', { resource: name, on: invocation.options.on as string }));
  return shown(warnAll(context, change));
}

export async function resourceDelete(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const result = await context.spin(`deleting resource ${name}`, () => client.call('resource.delete', { resource: name, force: context.globals.force }));
  return { data: result, text: `resource ${name} deleted` };
}

export async function resourceOnline(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`bringing resource ${name} online`, () => client.call('resource.online', { resource: name }));
  const resource = warnAll(context, change);
  // In a group that is offline it only starts with the group: nothing to wait for (the warning said so).
  if (change.warnings.some((w) => w.code === 'E_GROUP_OFFLINE')) return shown(resource);
  return shown(await settleResource(context, client, resource, 'Online', (r) => r.state === 'Online'));
}

export async function resourceOffline(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const change = await context.spin(`taking resource ${name} offline`, () => client.call('resource.offline', { resource: name }));
  return shown(await settleResource(context, client, warnAll(context, change), 'Offline', (r) => r.state === 'Offline' || r.state === 'Failed'));
}

/** fail and cleanup: requests without a state to wait for (what follows a failure is the restart and failover policy's to decide). */
export async function resourceRequest(invocation: Invocation, context: CommandContext, what: 'fail' | 'cleanup'): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const label = what === 'fail' ? `failing resource ${name}` : `cleaning up resource ${name}`;
  const change = await context.spin(label, () => client.call(what === 'fail' ? 'resource.fail' : 'resource.cleanup', { resource: name }));
  return shown(warnAll(context, change));
}
