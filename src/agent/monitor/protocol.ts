// Messages between the agent and a resource monitor process. They travel
// over the Node IPC channel that child_process.fork() sets up (JSON
// serialization): built in, message-framed, and its disconnect tells the
// monitor that the agent died. Requests carry everything the monitor needs
// about the resource, so a fresh monitor needs no state handed over.

import type { CheckIntervals, OperationDeadlines } from '../db/schema.js';
import type { Containment } from '../types/cgroup-entry.js';
import type { OperationName, OperationResult } from '../types/resource-type.js';
import type { TypeRef } from '../types/type-registry.js';

export interface ResourceSpec {
  name: string;
  group: string;
  type: TypeRef;
  parameters: Record<string, string>;
  deadlines: OperationDeadlines;
  checkIntervals: CheckIntervals;
  isolate: boolean;
  /** The group's containment (GroupContainment.create(group) and .kind); null: none. */
  containment: Containment | null;
  /** The resource's own directory for output and pid files; created by the monitor. */
  outputDir: string;
  /** The state directory holding the group's undo journal (guard's UndoJournal); null: none. */
  undoStateDir: string | null;
}

/** The deadline of an operation from the resource's deadlines, in ms. */
export function deadlineFor(operation: OperationName, spec: ResourceSpec): number {
  switch (operation) {
    case 'online': return spec.deadlines.start;
    case 'offline':
    case 'terminate': return spec.deadlines.stop;
    case 'quickCheck': return spec.deadlines.quickCheck;
    case 'thoroughCheck': return spec.deadlines.thoroughCheck;
  }
}

/**
 * Run an operation on a resource. online, once it succeeds, starts the
 * resource's scheduled checks; offline and terminate stop them at once. A
 * check asked for here is answered and changes no health state.
 */
export interface OperateRequest {
  kind: 'operate';
  id: number;
  operation: OperationName;
  resource: ResourceSpec;
  /** ms from when the monitor receives it; at the deadline the operation is killed and fails with E_DEADLINE. */
  deadlineMs: number;
}

export type MonitorRequest = OperateRequest;

/** Where a health transition was noticed. */
export type HealthSource = 'exit' | 'quickCheck' | 'thoroughCheck' | 'monitor';

/**
 * A change of a monitored resource's health, sent only on a transition
 * (healthy → failed, failed → healthy), never for every check.
 */
export interface HealthEvent {
  resource: string;
  healthy: boolean;
  source: HealthSource;
  /** The result that caused the transition. */
  result: OperationResult;
}

export type MonitorMessage =
  | { kind: 'result'; id: number; result: OperationResult }
  | ({ kind: 'health' } & HealthEvent)
  /** Sent every heartbeat interval (and once at start: ready). */
  | { kind: 'heartbeat' }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };
