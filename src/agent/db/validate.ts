// Validation of a command envelope against a state: the one code path that
// both `validateCommand` (before proposing) and `apply` (after commit) use,
// so a command is judged by the same rules everywhere. A handler returns
// the change to make; it is made only when no error was reported.

import type { CommandType } from './commands.js';
import type { ClusterState } from './schema.js';
import type { Handler, Mutation } from './input.js';
import type { Report } from './report.js';
import { Fields, isRecord } from './input.js';
import { ReportSink } from './report.js';
import { adminKeyAdd, adminKeyRemove, diskAdd, diskRemove, propertySet, quorumSet } from './cmd-config.js';
import { nodeAdd, nodeRemove, nodeSet } from './cmd-nodes.js';
import { groupCreate, groupDelete, groupSet } from './cmd-groups.js';
import { resourceCreate, resourceDelete, resourceDepend, resourceSet } from './cmd-resources.js';
import { resourceTypeRegister, resourceTypeUnregister } from './cmd-types.js';
import { placementSet, resourceStateSet } from './cmd-placement.js';
import {
  groupCleanup, groupMove, groupOffline, groupOnline, resourceCleanup, resourceFail, resourceOffline, resourceOnline,
} from './cmd-operations.js';
import { didYouMean } from './suggest.js';
import { show } from './names.js';

const HANDLERS: Readonly<Record<CommandType, Handler>> = {
  'property.set': propertySet,
  'node.add': nodeAdd,
  'node.remove': nodeRemove,
  'node.set': nodeSet,
  'group.create': groupCreate,
  'group.delete': groupDelete,
  'group.set': groupSet,
  'group.online': groupOnline,
  'group.offline': groupOffline,
  'group.move': groupMove,
  'group.cleanup': groupCleanup,
  'resource.create': resourceCreate,
  'resource.delete': resourceDelete,
  'resource.set': resourceSet,
  'resource.depend': resourceDepend,
  'resource.online': resourceOnline,
  'resource.offline': resourceOffline,
  'resource.fail': resourceFail,
  'resource.cleanup': resourceCleanup,
  'resourceType.register': resourceTypeRegister,
  'resourceType.unregister': resourceTypeUnregister,
  'disk.add': diskAdd,
  'disk.remove': diskRemove,
  'quorum.set': quorumSet,
  'adminKey.add': adminKeyAdd,
  'adminKey.remove': adminKeyRemove,
  'placement.set': placementSet,
  'resourceState.set': resourceStateSet,
};

export const COMMAND_TYPES: readonly CommandType[] = (Object.keys(HANDLERS) as CommandType[]).sort();

export interface CommandPlan {
  /** `malformed` when the entry is not a command of a known type. */
  type: CommandType | 'malformed';
  /** The command object, for the audit summary. */
  cmd: Record<string, unknown> | null;
  actor: string | null;
  at: number | null;
  requestId: string | null;
  reports: Report[];
  /** The change to make; null when an error was reported. */
  mutate: Mutation | null;
}

/** Judges `envelope` (parsed JSON of any shape) against `state` without changing it. */
export function planCommand(state: ClusterState, envelope: unknown): CommandPlan {
  const force = isRecord(envelope) && envelope['force'] === true;
  const sink = new ReportSink(force);
  const plan: CommandPlan = { type: 'malformed', cmd: null, actor: null, at: null, requestId: null, reports: sink.reports, mutate: null };
  if (!isRecord(envelope)) {
    sink.error('E_MALFORMED', 'a command envelope must be a JSON object');
    return plan;
  }
  const fields = new Fields(envelope, sink);
  fields.only(['cmd', 'actor', 'at', 'requestId', 'force']);
  plan.actor = fields.string('actor', true, 256) ?? null;
  plan.at = fields.integer('at', 0, Number.MAX_SAFE_INTEGER, true) ?? null;
  plan.requestId = fields.string('requestId', false, 128) ?? null;
  fields.boolean('force');
  const cmd = fields.object('cmd', true);
  if (!cmd) return plan;
  plan.cmd = cmd.value;
  const type = cmd.get('type');
  if (typeof type !== 'string' || !Object.hasOwn(HANDLERS, type)) {
    sink.error('E_UNKNOWN_COMMAND', `unknown command type ${show(type)}`, {
      field: 'type',
      hint: typeof type === 'string' ? didYouMean(type, COMMAND_TYPES) : undefined,
    });
    return plan;
  }
  plan.type = type as CommandType;
  // Fields are named relative to the command: `name`, `settings.priority`.
  const command = new Fields(cmd.value, sink);
  const mutate = HANDLERS[plan.type]({ state, cmd: command, sink, at: plan.at ?? 0 });
  plan.mutate = sink.hasErrors ? null : mutate ?? null;
  return plan;
}
