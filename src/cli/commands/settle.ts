// Waiting for a group or resource to reach the state a command asked for:
// the change is committed at once, and the nodes then bring the group
// there. The wait polls the asked node's view with a spinner, bounded by
// --timeout; on timeout (exit 6) the message says where things stand.
import type { AgentClient } from '../../client/agent-client.js';
import { ApiCallError } from '../../client/agent-client.js';
import type { GroupView, ResourceView } from '../../client/api.js';
import { pollUntil } from '../../client/poll.js';
import type { CommandContext } from '../command-spec.js';
import { FcmError } from '../errors.js';
import { waitTimeoutMs } from './node-add.js';
import { onlineCount } from './group-views.js';

/** Placed on a node, with every resource that is wanted online Online. */
export function groupIsOnline(group: GroupView): boolean {
  return group.owner !== null && group.resources.every((r) => r.desired === 'offline' || r.state === 'Online');
}

export function groupIsOffline(group: GroupView): boolean {
  return group.owner === null && group.state === 'Offline';
}

/** Where a group stands, for a timeout message: `Pending on node2, 1 of 2 online`. */
export function groupWhere(group: GroupView): string {
  return `${group.state} ${group.owner === null ? 'and placed nowhere' : `on ${group.owner}`}, ${onlineCount(group)}`;
}

const HINT = 'the change is committed and the cluster keeps working on it; follow it with fcm group show, or wait longer with --timeout';

async function settle<V>(context: CommandContext, what: string, probe: () => Promise<V>, done: (view: V) => boolean, where: (view: V) => string): Promise<V> {
  let last: V | undefined;
  try {
    return await context.spin(`waiting for ${what}`, () =>
      pollUntil(what, async () => {
        last = await probe();
        return done(last) ? last : undefined;
      }, { timeoutMs: waitTimeoutMs(context), intervalMs: 200 }));
  } catch (err) {
    if (!(err instanceof ApiCallError && err.code === 'E_TIMEOUT')) throw err;
    const now = last === undefined ? '' : `; it is ${where(last)}`;
    throw new FcmError('E_TIMEOUT', `timed out after ${waitTimeoutMs(context)} ms waiting for ${what}${now}`, HINT);
  }
}

/** The group once `done` holds, unless --no-wait (then the view as it is). */
export async function settleGroup(context: CommandContext, client: AgentClient, group: GroupView, what: string, done: (g: GroupView) => boolean): Promise<GroupView> {
  if (!context.globals.wait || done(group)) return group;
  return settle(context, `group ${group.name} to be ${what}`, () => client.call('group.show', { group: group.name }), done, groupWhere);
}

export async function settleResource(context: CommandContext, client: AgentClient, resource: ResourceView, what: string, done: (r: ResourceView) => boolean): Promise<ResourceView> {
  if (!context.globals.wait || done(resource)) return resource;
  return settle(context, `resource ${resource.name} to be ${what}`, () => client.call('resource.show', { resource: resource.name }), done, (r) => `${r.state}${r.node === null ? '' : ` on ${r.node}`}`);
}
