// What the node controller (controller-node.ts) reads and what it asks of
// the processes around it: the resource monitor, the lease guard, the
// cluster database (through the leader) and the lease holder. Every time is
// local monotonic ms, the same clock on the agent, the monitor and the
// guard (CLOCK_MONOTONIC is per machine).

import type { ClusterCommand } from '../db/commands.js';
import type { PlacementRecord, ResourceRecord, ResourceRequestRecord, ResourceStateRecord } from '../db/schema.js';
import type { GroupEpoch } from './lease-messages.js';

/** The applied cluster database, as `ClusterDatabase.list*()` returns it; any order. */
export interface ControllerView {
  placements: readonly PlacementRecord[];
  resources: readonly ResourceRecord[];
  resourceStates: readonly ResourceStateRecord[];
  /** What administrators asked of resources (resource online/offline/fail); absent: nothing. */
  resourceRequests?: readonly ResourceRequestRecord[];
}

/**
 * One operation for the resource monitor. The monitor's duties:
 * - `online`: if its clock reads `notAfter` or later when it would begin,
 *   it begins nothing and answers `expired` (the lease guard may already
 *   have killed the group: a process started now would outlive the lease);
 *   otherwise it starts the resource and answers `ok` or `failed`.
 * - `offline`: stop the resource's processes; `ok` or `failed`.
 * - `terminate`: kill the resource's processes without a graceful stop; an
 *   operation still running on the resource is abandoned (`canceled`).
 * Results of one resource's operations come back in the order issued.
 */
export interface MonitorOp {
  /** Numbers this controller's operations from 1; the result echoes it. */
  id: number;
  kind: 'online' | 'offline' | 'terminate';
  group: string;
  epoch: number;
  resource: string;
  /** `online` only: local ms from which the monitor must not begin it. */
  notAfter: number | null;
}

export type MonitorEvent =
  | { kind: 'done'; id: number; outcome: 'ok' | 'failed' | 'expired' | 'canceled'; reason?: string }
  /** A health check found the resource not running (or not well); its processes may linger. */
  | { kind: 'failed'; group: string; resource: string; reason: string };

/**
 * For the lease guard (rule 5): the groups that may have processes and
 * when it kills them all, `deadline` = lease end - (λ + K). Replaces the
 * previous one; a group left out is killed at once. Send it before any
 * monitor operation of the same batch; the guard answers `acked`.
 */
export interface GuardLease {
  seq: number;
  deadline: number;
  groups: string[];
}

export type GuardEvent =
  | { kind: 'acked'; seq: number }
  /** The deadline `deadline` came: every group's processes were killed; the guard holds no lease now. */
  | { kind: 'expired'; deadline: number }
  /** `group`, left out of a lease, was killed. */
  | { kind: 'killed'; group: string };

export type ResourceReport = Extract<ClusterCommand, { type: 'resourceState.set' }>;

/**
 * The caller's duties, in this order: send `guard` to the lease guard;
 * hand `monitor` to the resource monitor in the order given; propose
 * `reports` through the leader (a lost one is sent again by `tick`); pass
 * each of `stopped` to `LeaseHolder.onStopped`.
 */
export interface NodeActions {
  guard: GuardLease | null;
  monitor: MonitorOp[];
  reports: ResourceReport[];
  stopped: GroupEpoch[];
}

/** Leader → owner: restart a Failed resource (the restart policy allowed it). */
export interface RestartOrder {
  kind: 'restart';
  group: string;
  resource: string;
  epoch: number;
  /** `since` of the Failed record being answered: a later failure needs its own answer. */
  failedSince: number;
}

/** Leader → owner: stop a resource of a group held Failed; it stays down until restarted or placed anew. */
export interface StopOrder {
  kind: 'stop-resource';
  group: string;
  resource: string;
  epoch: number;
}

export type OwnerOrder = RestartOrder | StopOrder;
