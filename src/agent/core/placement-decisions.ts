// What the placement planner reads and what it decides. Inputs are the
// committed cluster state and what the leader knows now; outputs are data:
// commands for the leader to propose, operations to request from a node's
// resource monitor, and reasons for waiting that the CLI can show.

import type { NodeId } from '../consensus/types.js';
import type { ClusterCommand } from '../db/commands.js';
import type { GroupRecord, NodeRecord, PlacementRecord, ResourceRecord, ResourceStateRecord } from '../db/schema.js';
import type { PlaceBlocker } from './lease-granter.js';
import type { NodeState } from './membership.js';

/** The applied cluster database, as `ClusterDatabase.list*()` returns it; any order. */
export interface CommittedState {
  nodes: readonly NodeRecord[];
  groups: readonly GroupRecord[];
  resources: readonly ResourceRecord[];
  placements: readonly PlacementRecord[];
  resourceStates: readonly ResourceStateRecord[];
}

/** The lease granter's answer for (group, node): `LeaseGranter.placeableAt(group, node, now)`. */
export interface PlaceAnswer {
  ok: boolean;
  blockers: PlaceBlocker[];
}

/** What an administrator asked for. Given to one `plan` call; the planner pursues it from then on. */
export type AdminIntent =
  /** Bring the group online, on `node` (id or name) if given, else where placement chooses. */
  | { kind: 'online'; group: string; node?: string }
  | { kind: 'offline'; group: string }
  /** Move the group to `node`, or to the best other node. */
  | { kind: 'move'; group: string; node?: string }
  /** Forget the group's failures and holds; a group with a failed resource is started afresh. */
  | { kind: 'cleanup'; group: string };

export interface PlanInput {
  /** The leader's local monotonic clock, ms. */
  now: number;
  /** Hour of the day (0-23) on the leader's local wall clock; only failback windows read it. */
  wallHour: number;
  committed: CommittedState;
  /** `LivenessView.states(now)`; a node missing here counts as Down. */
  liveness: readonly { node: NodeId; state: NodeState }[];
  /** Asked before every placement on a node (safety rule 4); usually `(g, n) => granter.placeableAt(g, n, now)`. */
  placeable: (group: string, node: NodeId) => PlaceAnswer;
  /** Applied in the order given: a later intent for a group replaces an earlier one. */
  intents?: readonly AdminIntent[];
}

/** A `placement.set` that takes the group off its node. */
export type StopCommand = Extract<ClusterCommand, { type: 'placement.set' }> & { node: null; expectedEpoch: number };

declare const admittedBrand: unique symbol;
/** A `placement.set` naming a node; only `admitStart` (placement-gate.ts) makes one. */
export type StartCommand = Extract<ClusterCommand, { type: 'placement.set' }> & {
  node: NodeId;
  expectedEpoch: number;
  readonly [admittedBrand]: true;
};

export type MoveReason =
  /** Administrator commands. */
  | 'online' | 'offline' | 'move' | 'cleanup'
  /** A resource ran out of restarts; or the hold after too many failovers ended. */
  | 'failover' | 'retry'
  /** The owner went Down, was drained, or is no longer a possible owner. */
  | 'node-down' | 'drain' | 'not-possible-owner'
  /** A more preferred node came back. */
  | 'failback';

export type WaitReason =
  /** The lease rules do not yet allow starting on `node`; `until`: when the blockers lapse by themselves (null: not by themselves). */
  | { reason: 'lease'; node: NodeId; blockers: PlaceBlocker[]; until: number | null }
  | { reason: 'no-candidate' }
  /** Held Failed after too many failovers, until cleanup or local ms `retryAt`. */
  | { reason: 'failover-threshold'; retryAt: number }
  /** `resource` is out of restarts and must not move its group: Failed until cleanup. */
  | { reason: 'resource-failed'; resource: string }
  /** Failback to `node` waits for the failback window to open at `startHour`. */
  | { reason: 'failback-window'; node: NodeId; startHour: number };

export interface IntentProblem {
  code: 'E_NOT_FOUND' | 'E_NOT_CANDIDATE' | 'E_NO_CANDIDATE';
  message: string;
}

/**
 * The caller's duties, by kind:
 * - `propose`: propose the command. Until its commit shows, later plans
 *   repeat it; `expectedEpoch` makes a repeat harmless (E_CONFLICT).
 * - `restart`: ask `node`'s resource monitor to start `resource` at local
 *   ms `at`, once per (resource, epoch, failedSince).
 * - `stop-resource`: ask `node`'s resource monitor to stop `resource`.
 * - `wait`, `refused`: nothing to do; shown to whoever asks.
 */
export type Decision =
  | { kind: 'propose'; command: StopCommand | StartCommand; why: MoveReason }
  | { kind: 'restart'; group: string; resource: string; node: NodeId; epoch: number; failedSince: number; at: number }
  | { kind: 'stop-resource'; group: string; resource: string; node: NodeId; epoch: number }
  | { kind: 'wait'; group: string; why: WaitReason }
  | { kind: 'refused'; intent: AdminIntent; problems: IntentProblem[] };
