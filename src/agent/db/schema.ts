// The cluster database's state: the cluster configuration plus placement.
// Records hold no optional members (absence is `null`) so that every node
// serializes them identically. Durations are in milliseconds.

import type { DependencyExpr } from './dependency.js';
import type { PropertyKey, PropertyValue } from './properties.js';

/** `node` runs resources; `witness-agent` votes but never runs resources. */
export type NodeKind = 'node' | 'witness-agent';

export interface NodeRecord {
  /** Stable identity, the consensus member id. */
  id: string;
  /** Name people use; unique, and never equal to another node's id. */
  name: string;
  /** `host:port` of the node's embedded SSH server. */
  address: string;
  /** The node's SSH host public key, pinned: peers refuse any other key. */
  hostKey: string;
  /** Identity of the node's state directory; a re-imaged node gets a new one. */
  incarnation: string;
  /** 1: the node votes; 0: it does not. */
  voteWeight: number;
  kind: NodeKind;
  /** Paused nodes get no new groups. */
  paused: boolean;
  /** With `paused`: move the groups it owns away as well. */
  drain: boolean;
  /** The last resume of this node since it was paused; null while paused or never resumed. */
  resumed: NodeResume | null;
}

/** `node resume --failback`: which groups that prefer the resumed node move back to it. */
export type ResumeFailback = 'now' | 'policy' | 'never';

/**
 * A resume, as the placement planner reads it: groups that prefer the node
 * and were placed in an epoch up to `epoch` (before the resume) move back
 * at once (`now`), as their own failback setting says (`policy`), or stay
 * where they are (`never`). Groups placed later are not affected.
 */
export interface NodeResume {
  failback: ResumeFailback;
  /** The cluster's placement epoch counter when the resume was applied. */
  epoch: number;
}

export type FailbackMode = 'never' | 'immediate' | 'window';

/** Hours of the day (0-23, leader's local wall clock) between which failback may happen; may wrap midnight. */
export interface FailbackWindow {
  startHour: number;
  endHour: number;
}

/** Restart a failed resource in place up to `maxRestarts` times within `period` ms, waiting `delay` ms first. */
export interface RestartPolicy {
  maxRestarts: number;
  period: number;
  delay: number;
}

/** A restart policy and what happens past it. */
export interface RestartSettings extends RestartPolicy {
  /** True: a resource out of restarts fails its group over. False: it stays Failed where it is, until cleanup. */
  failGroupOver: boolean;
}

/** What an administrator wants of a group or resource; the placement planner and the nodes pursue it. */
export type DesiredState = 'online' | 'offline';

/** An administrator's move, pursued until a placement on a node is committed. */
export interface GroupMove {
  /** Target node id; null: the best node other than `from`. */
  to: string | null;
  /** Owner node id when the move was asked; null: it was placed nowhere. */
  from: string | null;
}

export interface GroupRecord {
  name: string;
  /** Node ids in order of preference. */
  preferredOwners: string[];
  /** Node ids the group may run on; empty means every node of kind `node`. */
  possibleOwners: string[];
  /** Failovers allowed within `failoverPeriod` ms before the group is held Failed. */
  failoverThreshold: number;
  failoverPeriod: number;
  /** ms a group held Failed past its threshold waits before it is tried again (cleanup ends the hold sooner). */
  failoverRetry: number;
  failback: FailbackMode;
  /** Set exactly when `failback` is `window`. */
  failbackWindow: FailbackWindow | null;
  /** Groups sharing a class are kept on different nodes where possible. */
  antiAffinityClasses: string[];
  /** 0-3000; higher starts first and drains last; 0 never starts automatically. */
  priority: number;
  /** Restart settings of resources that do not set their own. */
  restart: RestartSettings;
  /** Set by group online / offline (and move: online); a new group is offline. */
  desired: DesiredState;
  /** Set by group move; cleared by group offline and by the next placement on a node. */
  move: GroupMove | null;
  /** Bumped by group cleanup: the leader forgets the group's failures and holds when it sees it grow. */
  cleanupRequest: number;
}

/** Time allowed for each operation before it is terminated, in ms. */
export interface OperationDeadlines {
  start: number;
  stop: number;
  quickCheck: number;
  thoroughCheck: number;
}

/** Health-check intervals in ms. */
export interface CheckIntervals {
  quick: number;
  thorough: number;
}

export interface ResourceRecord {
  name: string;
  group: string;
  /** Name of a registered resource type. */
  type: string;
  /** Parameters as given (type defaults are not copied in). */
  parameters: Record<string, string>;
  /** Resources of the same group that must be online first. */
  dependsOn: DependencyExpr | null;
  /** `null`: the group's restart settings. */
  restart: RestartSettings | null;
  deadlines: OperationDeadlines;
  checkIntervals: CheckIntervals;
  /** Node ids; empty means no restriction beyond the group's. */
  possibleOwners: string[];
  /** Run in a resource monitor of its own. */
  isolate: boolean;
}

export type ResourceTypeKind = 'process' | 'ocf' | 'lsb' | 'ip' | 'disk' | 'plugin';
export type ParameterType = 'string' | 'integer' | 'boolean' | 'duration';

export interface ParameterSpec {
  type: ParameterType;
  required: boolean;
  /** Used when the resource does not set the parameter. */
  default: string | null;
  description: string;
}

export interface ResourceTypeRecord {
  name: string;
  kind: ResourceTypeKind;
  /** OCF agent, LSB script or plug-in module path; `null` for built-in types. */
  source: string | null;
  parameters: Record<string, ParameterSpec>;
  builtin: boolean;
}

export interface DiskRecord {
  id: string;
  /** Block device or file on shared storage. */
  path: string;
  sizeBytes: number;
  /** T: the disk's I/O timeout (ms), as in its superblock. */
  ioTimeout: number;
  /** W: time the watchdog needs to act (ms). */
  watchdogTime: number;
}

export type QuorumMode = 'node-majority' | 'node-and-witness' | 'witness-only';
export type WitnessSpec = { kind: 'disk'; path: string } | { kind: 'share'; dir: string };

export interface QuorumSettings {
  mode: QuorumMode;
  /** Set exactly when the mode uses a witness. */
  witness: WitnessSpec | null;
}

export type AdminRole = 'admin' | 'operator' | 'viewer';

export interface AdminKeyRecord {
  name: string;
  publicKey: string;
  /** `SHA256:...` as OpenSSH prints it; audit records name the actor by it. */
  fingerprint: string;
  role: AdminRole;
}

export interface PlacementRecord {
  group: string;
  /** Owner node id, or `null`: placed nowhere. */
  node: string | null;
  /** Cluster-wide counter value taken by this placement; lease grants carry it. */
  epoch: number;
  /** Proposer's wall clock (ms) when the placement was decided. */
  at: number;
}

export type ResourceState = 'Offline' | 'OnlinePending' | 'Online' | 'OfflinePending' | 'Failed';
export type GroupState = 'Online' | 'PartialOnline' | 'Offline' | 'Failed' | 'Pending';

export interface ResourceStateRecord {
  resource: string;
  state: ResourceState;
  /** Node the state was reported for, if any. */
  node: string | null;
  /** Placement epoch the report belongs to. */
  epoch: number;
  /** Proposer's wall clock (ms) of the transition. */
  since: number;
  reason: string | null;
}

/**
 * What administrators asked of a resource at run time. Kept apart from its
 * configuration (ResourceRecord), because taking a resource offline or
 * failing it on purpose is an operation, not a change of configuration,
 * and from the states the nodes report (ResourceStateRecord).
 */
export interface ResourceRequestRecord {
  resource: string;
  /** Set by resource online / offline; a new resource is online: it runs whenever its group does. */
  desired: DesiredState;
  /**
   * Bumped by resource fail. The node running the resource fails it (as if
   * its health check had failed) when it sees the count grow; a node that
   * takes the group over counts from the value it finds.
   */
  failRequest: number;
  /** Bumped by resource cleanup: the leader forgets the resource's restarts when it sees it grow. */
  cleanupRequest: number;
}

/** Everything the replicated state machine holds except the audit history. */
export interface ClusterState {
  /** Bumped by every applied (not rejected) command. */
  version: number;
  /** Last placement epoch handed out, cluster-wide, so epochs never repeat even for a re-created group. */
  placementEpoch: number;
  /** Properties set explicitly; the rest take their defaults. */
  properties: Map<PropertyKey, PropertyValue>;
  nodes: Map<string, NodeRecord>;
  groups: Map<string, GroupRecord>;
  resources: Map<string, ResourceRecord>;
  resourceTypes: Map<string, ResourceTypeRecord>;
  disks: Map<string, DiskRecord>;
  quorum: QuorumSettings;
  adminKeys: Map<string, AdminKeyRecord>;
  placements: Map<string, PlacementRecord>;
  resourceStates: Map<string, ResourceStateRecord>;
  resourceRequests: Map<string, ResourceRequestRecord>;
}

/** A group's `failoverRetry` unless set: 1 h. */
export const DEFAULT_FAILOVER_RETRY = 3_600_000;
/** Restart at once (delay 0): a crash loop is bounded by maxRestarts within the period, and the restart goal is 100 ms. */
export const DEFAULT_RESTART: RestartSettings = { maxRestarts: 3, period: 900_000, delay: 0, failGroupOver: true };
export const DEFAULT_DEADLINES: OperationDeadlines = { start: 60_000, stop: 60_000, quickCheck: 10_000, thoroughCheck: 60_000 };
export const DEFAULT_CHECK_INTERVALS: CheckIntervals = { quick: 5000, thorough: 60_000 };

export function defaultRequests(resource: string): ResourceRequestRecord {
  return { resource, desired: 'online', failRequest: 0, cleanupRequest: 0 };
}

export function defaultGroup(name: string): GroupRecord {
  return {
    name,
    preferredOwners: [],
    possibleOwners: [],
    failoverThreshold: 2,
    failoverPeriod: 21_600_000,
    failoverRetry: DEFAULT_FAILOVER_RETRY,
    failback: 'never',
    failbackWindow: null,
    antiAffinityClasses: [],
    priority: 2000,
    restart: { ...DEFAULT_RESTART },
    desired: 'offline',
    move: null,
    cleanupRequest: 0,
  };
}

function param(type: ParameterType, required: boolean, description: string, defaultValue: string | null = null): ParameterSpec {
  return { type, required, default: defaultValue, description };
}

/**
 * Types that ship with fcm; they cannot be unregistered. The process and ip
 * parameters are those their implementations (src/agent/types/) describe;
 * a test keeps the two in step.
 */
export function builtinResourceTypes(): ResourceTypeRecord[] {
  return [
    {
      name: 'disk', kind: 'disk', source: null, builtin: true,
      parameters: {
        disk: param('string', true, 'id of a cluster disk'),
        mountpoint: param('string', false, 'mount the filesystem here (needs fencing watchdog or external)'),
        fsType: param('string', false, 'filesystem type for mount'),
        mountOptions: param('string', false, 'mount options'),
      },
    },
    {
      name: 'ip', kind: 'ip', source: null, builtin: true,
      parameters: {
        address: param('string', true, 'address with prefix length, e.g. 10.0.0.50/24 or fd00::50/64'),
        interface: param('string', false, 'interface to add it to (default: the one with an address in the same subnet)'),
        netns: param('string', false, 'network namespace (ip netns) to work in (default: the node\'s own)'),
      },
    },
    {
      name: 'process', kind: 'process', source: null, builtin: true,
      parameters: {
        command: param('string', true, 'command line, split into words and run without a shell'),
        env: param('string', false, 'environment as NAME=value words (PATH and LANG are set unless given)'),
        cwd: param('string', false, 'working directory', '/'),
        user: param('string', false, 'user to run as, with its primary and supplementary groups (default: root)'),
        stopTimeout: param('duration', false, 'time between SIGTERM and SIGKILL when going offline', '10s'),
        probe: param('string', false, 'health probe: tcp://HOST:PORT, http(s)://HOST:PORT/PATH (2xx/3xx) or command:COMMAND (exit 0)'),
        probeLevel: param('string', false, 'which check runs the probe: quick or thorough', 'thorough'),
        probeTimeout: param('duration', false, 'time one probe attempt may take', '5s'),
      },
    },
  ];
}

export function emptyState(): ClusterState {
  return {
    version: 0,
    placementEpoch: 0,
    properties: new Map(),
    nodes: new Map(),
    groups: new Map(),
    resources: new Map(),
    resourceTypes: new Map(builtinResourceTypes().map((t) => [t.name, t])),
    disks: new Map(),
    quorum: { mode: 'node-majority', witness: null },
    adminKeys: new Map(),
    placements: new Map(),
    resourceStates: new Map(),
    resourceRequests: new Map(),
  };
}

/** Map values in key order: every walk over the state must be in the same order on every node. */
export function sortedValues<V>(map: ReadonlyMap<string, V>): V[] {
  return [...map.keys()].sort().map((key) => map.get(key) as V);
}

/** Values for which `keep` holds, in key order; filters before sorting, so walks over 10,000 resources stay cheap. */
export function sortedWhere<V>(map: ReadonlyMap<string, V>, keep: (value: V) => boolean): V[] {
  const keys: string[] = [];
  for (const [key, value] of map) if (keep(value)) keys.push(key);
  return keys.sort().map((key) => map.get(key) as V);
}

/** A node by id, or else by name (ids and names never collide across nodes). */
export function findNode(state: ClusterState, ref: string): NodeRecord | undefined {
  return state.nodes.get(ref) ?? sortedValues(state.nodes).find((n) => n.name === ref);
}
