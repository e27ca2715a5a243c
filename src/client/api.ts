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
import type { GroupSettingsInput, ResourceSettingsInput } from '../agent/db/commands.js';
import type { Report } from '../agent/db/report.js';
import type {
  CheckIntervals, DesiredState, FailbackMode, FailbackWindow, GroupState, OperationDeadlines, ParameterSpec, ResourceState,
  ResourceTypeKind, RestartSettings,
} from '../agent/db/schema.js';

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
  /** The longest event-loop delay in the same 10-20 s, ms. */
  eventLoopDelayMaxMs: number;
  /**
   * On a follower: ms between successive heartbeats from the leader as they
   * reached this agent, p99 and longest over the last 10-20 s (h when all is
   * well); null when none arrived (the leader itself, a node alone).
   */
  heartbeatGapP99Ms: number | null;
  heartbeatGapMaxMs: number | null;
  /** The heartbeat interval h the gaps compare with, ms; null outside a cluster. */
  heartbeatIntervalMs: number | null;
  /** The agent's CPU priority: the nice value of its main thread (fcm agent run --nice; resources run at 0). */
  nice: number;
  /** How the node is fenced: by the watchdog its lease guard feeds (T_wd in ms, null until known), or not at all. */
  fencing: { kind: 'none' } | { kind: 'watchdog'; device: string; timeoutMs: number | null };
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

/**
 * A resource as the API shows it: its configuration, what administrators
 * asked of it, and its state. Node references are node names.
 */
export interface ResourceView {
  name: string;
  group: string;
  type: string;
  /** In the group's current placement epoch (a report of an earlier placement counts as Offline). */
  state: ResourceState;
  desired: DesiredState;
  /** Node the state was reported on, with when (ms since the epoch, proposer's clock) and why; null when the state is not from the current placement. */
  node: string | null;
  since: number | null;
  reason: string | null;
  parameters: Record<string, string>;
  /** The dependency expression, e.g. `ip and (disk1 or disk2)`; null: none. */
  dependsOn: string | null;
  /** Null: the group's restart settings apply. Durations in ms. */
  restart: RestartSettings | null;
  deadlines: OperationDeadlines;
  checkIntervals: CheckIntervals;
  possibleOwners: string[];
  isolate: boolean;
  /** How many times a failure was asked for (resource fail) and a cleanup (resource cleanup). */
  failRequest: number;
  cleanupRequest: number;
}

/** A group as the API shows it: configuration, desired state, owner and state, with its resources. Node references are node names. */
export interface GroupView {
  name: string;
  /** From its resources' states in the current placement epoch. */
  state: GroupState;
  desired: DesiredState;
  /** The node it is placed on; null: nowhere. */
  owner: string | null;
  /** Its placement epoch; 0: never placed. */
  epoch: number;
  /** A move not yet done: to this node (null: the best other node), asked while it ran on `from`. */
  move: { to: string | null; from: string | null } | null;
  preferredOwners: string[];
  /** Empty: every node that runs resources. */
  possibleOwners: string[];
  failoverThreshold: number;
  /** ms. */
  failoverPeriod: number;
  /** ms a group held Failed past its failover threshold waits before it is tried again. */
  failoverRetry: number;
  failback: FailbackMode;
  failbackWindow: FailbackWindow | null;
  antiAffinityClasses: string[];
  priority: number;
  /** Durations in ms. */
  restart: RestartSettings;
  cleanupRequest: number;
  resources: ResourceView[];
}

/** What a change to a group answers: the group after it, and the database's warnings. */
export interface GroupChange {
  /** Log index the change was committed at. */
  index: number;
  group: GroupView;
  warnings: Report[];
}

export interface ResourceChange {
  index: number;
  resource: ResourceView;
  warnings: Report[];
}

export interface ResourceTypeView {
  name: string;
  kind: ResourceTypeKind;
  /** OCF agent, LSB script or plug-in path; null for built-in types. */
  source: string | null;
  builtin: boolean;
  /** In the cluster database, so resources may use it; false: an OCF agent installed on the asked node but not registered. */
  registered: boolean;
  summary: string;
  parameters: (ParameterSpec & { name: string })[];
  /** Why the parameters could not be read (an OCF agent's meta-data failed); null when they were. */
  problem: string | null;
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
  'group.create': { params: { group: string; settings?: GroupSettingsInput }; result: GroupChange };
  /** `force`: delete its resources with it (refused otherwise). */
  'group.delete': { params: { group: string; force?: boolean }; result: { index: number; deleted: string; resources: string[] } };
  'group.set': { params: { group: string; settings: GroupSettingsInput }; result: GroupChange };
  'group.show': { params: { group: string; consistent?: boolean }; result: GroupView };
  'group.list': { params: { consistent?: boolean }; result: GroupView[] };
  /** Changes what is wanted; the planner and the nodes bring the group there (poll group.show). */
  'group.online': { params: { group: string }; result: GroupChange };
  'group.offline': { params: { group: string }; result: GroupChange };
  /** To node `to`, or to the best other node. */
  'group.move': { params: { group: string; to?: string }; result: GroupChange };
  /** Failed resources start afresh; the leader forgets the group's failures. */
  'group.cleanup': { params: { group: string }; result: GroupChange };
  /** `type`: a registered type, or an installed OCF agent as `ocf:PROVIDER:AGENT` (registered on first use). `force`: mount a filesystem without fencing. */
  'resource.create': {
    params: { resource: string; group: string; type: string; parameters?: Record<string, string>; dependsOn?: string; settings?: ResourceSettingsInput; force?: boolean };
    result: ResourceChange;
  };
  /** `force`: also when resources depend on it (it is taken out of their expressions) or it is not offline. */
  'resource.delete': { params: { resource: string; force?: boolean }; result: { index: number; deleted: string } };
  /** `parameters`: null removes one. */
  'resource.set': { params: { resource: string; parameters?: Record<string, string | null>; settings?: ResourceSettingsInput; force?: boolean }; result: ResourceChange };
  /** `on`: an expression such as `A and (B or C)` over resources of its group; empty: no dependencies. */
  'resource.depend': { params: { resource: string; on: string }; result: ResourceChange };
  'resource.show': { params: { resource: string; consistent?: boolean }; result: ResourceView };
  'resource.list': { params: { group?: string; consistent?: boolean }; result: ResourceView[] };
  'resource.online': { params: { resource: string }; result: ResourceChange };
  'resource.offline': { params: { resource: string }; result: ResourceChange };
  /** A simulated failure of an online resource: its node fails it, and the restart and failover policy follow. */
  'resource.fail': { params: { resource: string }; result: ResourceChange };
  'resource.cleanup': { params: { resource: string }; result: ResourceChange };
  /** The types resources may use, and the OCF agents installed on the asked node. */
  'resource.types': { params: Record<string, never>; result: ResourceTypeView[] };
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M]['params'];
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result'];
