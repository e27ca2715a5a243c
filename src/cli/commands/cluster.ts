// fcm status, fcm cluster create | status | destroy.
//   --json: status prints ClusterStatus with `groups` (GroupSummary[]); create
//   prints ClusterStatus; destroy prints {destroyed: [node ids]}.
import type { ClusterStatus } from '../../client/api.js';
import { pollUntil } from '../../client/poll.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { FcmError } from '../errors.js';
import { renderKeyValues } from '../render.js';
import { addNodeAt, waitTimeoutMs } from './node-add.js';
import { renderClusterStatus } from './views.js';
import { renderGroupsAtAGlance, summarize } from './group-views.js';
import type { GroupSummary } from './group-views.js';

/** What fcm status --json prints: the cluster status and every group at a glance. */
export type StatusWithGroups = ClusterStatus & { groups: GroupSummary[] };

export async function clusterStatus(context: CommandContext): Promise<CommandResult> {
  const client = await context.connect();
  const [status, groups] = await Promise.all([client.call('cluster.status', {}), client.call('group.list', {})]);
  const data: StatusWithGroups = { ...status, groups: summarize(groups) };
  return { data, text: () => `${renderClusterStatus(status)}\n${renderGroupsAtAGlance(data.groups)}` };
}

export async function clusterCreate(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  if (invocation.options.witness !== undefined) {
    throw new FcmError('E_NOT_IMPLEMENTED', 'cluster create --witness needs the quorum witness, which is not built yet', 'create the cluster without --witness');
  }
  const addresses = (invocation.options.node as string[] | undefined) ?? [];
  const client = await context.connect();
  await context.spin(`creating cluster ${name}`, () => client.call('cluster.create', { name }));
  for (const address of addresses) await addNodeAt(context, client, address);
  const status = context.globals.wait
    ? await context.spin('waiting for a leader', () =>
      pollUntil('the new cluster to have a leader', async () => {
        const s = await client.call('cluster.status', {});
        return s.leader !== null ? s : undefined;
      }, { timeoutMs: waitTimeoutMs(context) }))
    : await client.call('cluster.status', {});
  return { data: status, text: () => renderClusterStatus(status) };
}

export async function clusterDestroy(context: CommandContext): Promise<CommandResult> {
  const client = await context.connect();
  const status = await client.call('cluster.status', {});
  const question = `Destroy cluster ${status.cluster.name}? Every node (${status.nodes.map((n) => n.name).join(', ')}) forgets it and stops its groups.`;
  if (!(await context.confirm(question))) throw new FcmError('E_CANCELLED', 'cluster destroy cancelled; nothing was changed');
  const result = await context.spin(`destroying cluster ${status.cluster.name}`, () => client.call('cluster.destroy', { all: true }));
  const names = new Map(status.nodes.map((n) => [n.id, n.name]));
  return {
    data: result,
    text: () => renderKeyValues([
      ['destroyed', status.cluster.name],
      ['nodes wiped', result.destroyed.map((id) => names.get(id) ?? id).join(', ')],
    ]),
  };
}
