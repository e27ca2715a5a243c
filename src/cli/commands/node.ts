// fcm node list | show | remove | evict | pause | resume (add: node-add.ts).
//   pause --drain waits, unless --no-wait, until no group is placed on the node.
//   --json: list prints NodeView[]; show, pause, resume print NodeView;
//   remove and evict print {removed: node}.
import type { AgentClient } from '../../client/agent-client.js';
import type { NodeView } from '../../client/api.js';
import { pollUntil } from '../../client/poll.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { FcmError } from '../errors.js';
import { waitTimeoutMs } from './node-add.js';
import { renderNode, renderNodeTable } from './views.js';

export async function nodeList(context: CommandContext): Promise<CommandResult> {
  const nodes = await (await context.connect()).call('node.list', {});
  return { data: nodes, text: () => renderNodeTable(nodes) };
}

export async function nodeShow(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const node = await (await context.connect()).call('node.show', { node: invocation.args[0] as string });
  return { data: node, text: () => renderNode(node) };
}

export async function nodeRemove(invocation: Invocation, context: CommandContext, how: 'remove' | 'evict'): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  if (how === 'evict') {
    const question = `Evict ${name}? It is removed without its help; use this only for a node that is gone for good.`;
    if (!(await context.confirm(question))) throw new FcmError('E_CANCELLED', 'node evict cancelled; nothing was changed');
  }
  const method = how === 'remove' ? 'node.remove' : 'node.evict';
  const result = await context.spin(`${how === 'remove' ? 'removing' : 'evicting'} ${name}`, () => client.call(method, { node: name, force: context.globals.force }));
  if (context.globals.wait) {
    await context.spin(`waiting for ${name} to leave`, () =>
      pollUntil(`${name} to leave the cluster`, async () => {
        const nodes = await client.call('node.list', {});
        return nodes.some((n) => n.name === name || n.id === result.removed) ? undefined : true;
      }, { timeoutMs: waitTimeoutMs(context) }));
  }
  return { data: result, text: `${name} ${how === 'remove' ? 'removed' : 'evicted'}` };
}

export async function nodePause(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const drain = invocation.options.drain === true;
  const accepted = await context.spin(`pausing ${name}${drain ? ' (draining its groups)' : ''}`, () => client.call('node.pause', { node: name, drain }));
  const node = await settle(context, client, accepted, 'Paused', (n) => n.state === 'Paused');
  if (drain && context.globals.wait) await drained(context, client, node.name);
  return { data: node, text: () => renderNode(node) };
}

/** Waits until no group is placed on the node any more. */
async function drained(context: CommandContext, client: AgentClient, node: string): Promise<void> {
  await context.spin(`waiting for the groups on ${node} to move`, () =>
    pollUntil(`the groups on ${node} to move away`, async () => {
      const groups = await client.call('group.list', {});
      return groups.every((g) => g.owner !== node) ? true : undefined;
    }, { timeoutMs: waitTimeoutMs(context) }));
}

export async function nodeResume(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const name = invocation.args[0] as string;
  const client = await context.connect();
  const failback = invocation.options.failback as 'now' | 'policy' | 'never' | undefined;
  const accepted = await context.spin(`resuming ${name}`, () => client.call('node.resume', failback === undefined ? { node: name } : { node: name, failback }));
  const node = await settle(context, client, accepted, 'no longer Paused', (n) => n.state !== 'Paused');
  return { data: node, text: () => renderNode(node) };
}

/** The node's view once `done` holds (unless --no-wait). */
async function settle(context: CommandContext, client: AgentClient, accepted: NodeView, what: string, done: (n: NodeView) => boolean): Promise<NodeView> {
  if (!context.globals.wait || done(accepted)) return accepted;
  return context.spin(`waiting for ${accepted.name} to be ${what}`, () =>
    pollUntil(`${accepted.name} to be ${what}`, async () => {
      const node = await client.call('node.show', { node: accepted.name });
      return done(node) ? node : undefined;
    }, { timeoutMs: waitTimeoutMs(context) }));
}
