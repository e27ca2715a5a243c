// Adding a node, as `fcm node add` and `fcm lab up` both do it: the new
// agent tells who it is (agent.identity), learns the members' keys so that it
// accepts the leader (cluster.join), then the cluster adds it (node.add) as a
// learner that becomes a voter once it has caught up.
import type { AgentClient } from './agent-client.js';
import type { AgentIdentity, ApiParams, ClusterStatus, NodeView } from './api.js';
import { pollUntil } from './poll.js';

export type Member = ApiParams<'cluster.join'>['members'][number];

export function memberOf(identity: AgentIdentity): Member {
  const { nodeId, name, publicKey, address, incarnation } = identity;
  return { nodeId, name, publicKey, address, incarnation };
}

export interface JoinOutcome {
  identity: AgentIdentity;
  view: NodeView;
  /** False when the node was a member already (nothing was changed). */
  added: boolean;
}

/**
 * @param cluster any member of the cluster (a follower forwards node.add to the leader)
 * @param newcomer the agent to add, not yet a member of any cluster
 * @param members the identities of the current members; asked for only when the node is not one already
 */
export async function joinNode(
  cluster: AgentClient,
  newcomer: AgentClient,
  status: ClusterStatus,
  members: () => Promise<readonly Member[]>,
): Promise<JoinOutcome> {
  const identity = await newcomer.call('agent.identity', {});
  const existing = status.nodes.find((n) => n.id === identity.nodeId);
  if (existing !== undefined) return { identity, view: existing, added: false };
  await newcomer.call('cluster.join', { clusterId: status.cluster.id, clusterName: status.cluster.name, members: [...(await members())] });
  const view = await cluster.call('node.add', { identity });
  return { identity, view, added: true };
}

/** Polls until the node is Up and a voter: caught up and counted in the quorum. */
export function waitForVoterUp(cluster: AgentClient, nodeId: string, name: string, timeoutMs: number): Promise<NodeView> {
  return pollUntil(`${name} to be Up as a voter`, async () => {
    const nodes = await cluster.call('node.list', {});
    const node = nodes.find((n) => n.id === nodeId);
    return node !== undefined && node.state === 'Up' && node.role === 'voter' ? node : undefined;
  }, { timeoutMs });
}
