// fcm node add HOST[:PORT] (and cluster create --node): reach the new node's
// agent (over SSH, or its lab socket), hand it the members' identities, add
// it to the cluster, and wait until it is a voter that is Up.
import type { AgentClient } from '../../client/agent-client.js';
import type { ClusterStatus, NodeView } from '../../client/api.js';
import { joinNode, memberOf, waitForVoterUp } from '../../client/join.js';
import type { JoinOutcome, Member } from '../../client/join.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { renderNode } from './views.js';

/** How long a command waits for the new state when --timeout is not given, ms. */
export const DEFAULT_WAIT_MS = 60_000;

export const waitTimeoutMs = (context: CommandContext): number => context.globals.timeoutMs ?? DEFAULT_WAIT_MS;

export async function nodeAdd(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const cluster = await context.connect();
  const { view, added } = await addNodeAt(context, cluster, invocation.args[0] as string);
  if (!added) context.warn(`${view.name} is a member already; nothing was changed`);
  return { data: view, text: () => renderNode(view) };
}

/** Adds the agent at `address`; resolves with its view (Up as a voter unless --no-wait). Idempotent. */
export async function addNodeAt(context: CommandContext, cluster: AgentClient, address: string): Promise<{ view: NodeView; added: boolean }> {
  const status = await cluster.call('cluster.status', {});
  const newcomer = await context.connectAddress(address);
  let outcome: JoinOutcome;
  try {
    outcome = await context.spin(`adding ${address} to ${status.cluster.name}`, () =>
      joinNode(cluster, newcomer, status, () => memberIdentities(context, cluster, status)));
  } finally {
    await newcomer.close();
  }
  if (!outcome.added || !context.globals.wait) return { view: outcome.view, added: outcome.added };
  const { nodeId, name } = outcome.identity;
  const view = await context.spin(`waiting for ${name} to catch up and vote`, () => waitForVoterUp(cluster, nodeId, name, waitTimeoutMs(context)));
  return { view, added: true };
}

/**
 * Who the members are, as the new node must know them to accept their
 * connections: each member is asked itself. A member that cannot be asked
 * (down) is left out with a warning; the new node learns it from the log.
 */
async function memberIdentities(context: CommandContext, cluster: AgentClient, status: ClusterStatus): Promise<Member[]> {
  const self = await cluster.call('agent.identity', {});
  const others = status.nodes.filter((n) => n.id !== self.nodeId);
  const asked = await Promise.all(others.map(async (node): Promise<Member | undefined> => {
    let client: AgentClient | undefined;
    try {
      client = await context.connectAddress(node.address);
      const identity = await client.call('agent.identity', {});
      if (identity.nodeId === node.id) return memberOf(identity);
      context.warn(`${node.address} is now ${identity.name} (${identity.nodeId}), not member ${node.name}; leaving ${node.name} out of the join`);
    } catch (err) {
      context.warn(`cannot ask ${node.name} (${node.address}) who it is: ${(err as Error).message}; the new node will learn it from the cluster`);
    } finally {
      await client?.close();
    }
    return undefined;
  }));
  return [memberOf(self), ...asked.filter((m): m is Member => m !== undefined)];
}
