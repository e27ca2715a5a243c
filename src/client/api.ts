// The agent's API: what the CLI (and any script) asks a node agent, over
// the agent's Unix socket or over SSH (the `fcm-api` subsystem of the
// embedded server). One protocol for both: JSON lines.
//
//   request:  {"id": 1, "method": "node.list", "params": {...}}\n
//   response: {"id": 1, "result": ...}\n
//         or  {"id": 1, "error": {"code": "E_NOT_FOUND", "message": "...", "hint": "...", "reports": [...]}}\n
//
// Requests on one connection may be pipelined; responses carry the request
// id. A method that changes the cluster is carried out by the leader: a
// follower forwards it and relays the answer, so any node can be asked.
// Reads are answered from the asked node's applied state unless
// `consistent: true`, which waits for a read-index barrier first.

import type { AuditRecord } from '../agent/db/audit.js';
import type { Report } from '../agent/db/report.js';

export interface ApiRequest {
  id: number;
  method: ApiMethod;
  params?: Record<string, unknown>;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  hint?: string;
  reports?: Report[];
}

export type ApiResponse =
  | { id: number; result: unknown }
  | { id: number; error: ApiErrorBody };

/** What a fresh agent tells about itself; what `node add` needs to pin it. */
export interface AgentIdentity {
  nodeId: string;
  name: string;
  incarnation: string;
  /** `ssh-ed25519 AAAA...`: the key peers pin and the node logs in with. */
  publicKey: string;
  /** `SHA256:...` of publicKey. */
  fingerprint: string;
  /** `host:port` others should dial. */
  address: string;
  version: string;
}

export type NodeState = 'Up' | 'Down' | 'Joining' | 'Paused';

export interface NodeView {
  id: string;
  name: string;
  address: string;
  state: NodeState;
  /** Consensus role in the configuration. */
  role: 'voter' | 'learner' | 'none';
  leader: boolean;
  kind: 'node' | 'witness-agent';
  /** Ms since the leader last heard from it; null when unknown (asked node is not leader and could not reach it). */
  lastHeardMs: number | null;
  /** Log position the leader knows this node has. */
  matchIndex: number | null;
  /** Ms of node lease left, as the node itself reports; null when unknown. */
  leaseRemainingMs: number | null;
}

export interface AgentStatus {
  identity: AgentIdentity;
  cluster: { id: string; name: string } | null;
  role: 'leader' | 'follower' | 'candidate' | 'pre-candidate' | 'learner' | 'none';
  term: number;
  leader: { id: string; name: string } | null;
  commitIndex: number;
  appliedIndex: number;
  /** Ms left on this node's lease (it may run groups until then); null when it holds none. */
  leaseRemainingMs: number | null;
  /** Ms left on the leader lease when this node is leader. */
  leaderLeaseRemainingMs: number | null;
  refusingVotes: boolean;
  uptimeMs: number;
  rssBytes: number;
  eventLoopDelayP99Ms: number;
  peers: { id: string; control: boolean; bulk: boolean }[];
}

export interface ClusterStatus {
  cluster: { id: string; name: string };
  leader: { id: string; name: string } | null;
  term: number;
  quorum: { voters: number; needed: number; up: number; ok: boolean };
  nodes: NodeView[];
  commitIndex: number;
}

/** The methods, their params and results. */
export interface ApiMethods {
  'agent.identity': { params: Record<string, never>; result: AgentIdentity };
  'agent.status': { params: Record<string, never>; result: AgentStatus };
  /** On a fresh agent: make a one-node cluster with this node as leader. */
  'cluster.create': { params: { name: string }; result: ClusterStatus };
  /**
   * On a fresh agent that is about to be added: trust these members' keys
   * and wait for the leader to replicate the log to it.
   */
  'cluster.join': {
    params: { clusterId: string; clusterName: string; members: Pick<AgentIdentity, 'nodeId' | 'name' | 'publicKey' | 'address' | 'incarnation'>[] };
    result: { joined: true };
  };
  'cluster.status': { params: { consistent?: boolean }; result: ClusterStatus };
  /** Stops this agent's membership and wipes its cluster state (every node, when asked of the leader with `all`). */
  'cluster.destroy': { params: { all?: boolean }; result: { destroyed: string[] } };
  'node.list': { params: { consistent?: boolean }; result: NodeView[] };
  'node.show': { params: { node: string }; result: NodeView };
  /** Adds a node (as a learner, then a voter once caught up). The node must have been told `cluster.join`. */
  'node.add': { params: { identity: AgentIdentity }; result: NodeView };
  /** Graceful: the node leaves the configuration (leadership moves first if it leads). */
  'node.remove': { params: { node: string; force?: boolean }; result: { removed: string } };
  /** For a dead node: removed without its help. `force` (remove and evict): make a removal that puts quorum at risk, which is refused otherwise. */
  'node.evict': { params: { node: string; force?: boolean }; result: { removed: string } };
  'node.pause': { params: { node: string; drain?: boolean }; result: NodeView };
  'node.resume': { params: { node: string; failback?: 'now' | 'policy' | 'never' }; result: NodeView };
  'config.get': { params: { key?: string; consistent?: boolean }; result: { properties: Record<string, number | string>; defaults: Record<string, number | string> } };
  'config.set': { params: { values: Record<string, string>; force?: boolean }; result: { index: number; properties: Record<string, number | string>; warnings: Report[] } };
  'config.history': { params: { limit?: number; sinceIndex?: number; type?: string }; result: AuditRecord[] };
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M]['params'];
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result'];
