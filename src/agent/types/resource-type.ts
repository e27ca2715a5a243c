// The interface every resource type implements: the built-in ones (process,
// ocf, lsb, ip) and plug-ins written in TypeScript/JavaScript. The resource
// monitor calls it; the type does the work on one resource and says how it
// went. A type never decides what happens next (restart, fail over): it
// reports, with a severity, and the agent decides.
//
// A plug-in module's default export is an object implementing ResourceType
// (see examples/file-flag.ts). It runs in a worker thread, so a hung call is
// stopped with worker.terminate(): write it as ordinary async code.

import type { ParameterSpec } from '../db/schema.js';
import type { UndoEntry } from '../guard/undo-actions.js';
import type { Containment } from './cgroup-entry.js';

export type { UndoEntry } from '../guard/undo-actions.js';
export type { Containment } from './cgroup-entry.js';

/**
 * How bad a failure is:
 *   soft   transient: restart in place (the restart policy applies)
 *   hard   this node cannot run it (not installed, no permission): fail over
 *   fatal  the configuration is wrong: it will fail on every node; do not retry
 */
export type FailureSeverity = 'soft' | 'hard' | 'fatal';

export interface OperationFailure {
  ok: false;
  /** Stable code, e.g. E_DEADLINE, E_EXITED, E_OCF_NOT_RUNNING. */
  code: string;
  message: string;
  severity: FailureSeverity;
}

export type OperationResult = { ok: true } | OperationFailure;

export const OK: OperationResult = Object.freeze({ ok: true });

export function failure(code: string, message: string, severity: FailureSeverity = 'soft'): OperationFailure {
  return { ok: false, code, message, severity };
}

/** One parameter of a type, as `fcm resource types` shows it. */
export interface ParameterDescription extends ParameterSpec {
  name: string;
  /** No two resources of the type may share the value (OCF `unique`). */
  unique: boolean;
}

export interface TypeDescription {
  /** One line for people. */
  summary: string;
  parameters: ParameterDescription[];
}

/** A problem with a resource's parameters; every problem is returned, not only the first. */
export interface ParameterProblem {
  /** E_MISSING_PARAMETER, E_UNKNOWN_PARAMETER, E_INVALID_VALUE, or a type's own code. */
  code: string;
  /** The parameter it is about, or null for the whole set. */
  parameter: string | null;
  message: string;
}

export interface ResourceLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The group's undo journal (the lease guard's, src/agent/guard/): an entry
 * is durable when `record` resolves. Record BEFORE making the change, so
 * whoever kills the group can undo it. Undoing is idempotent and the
 * journal is cleared when the group is stopped, so a type does not remove
 * its entries after a clean offline.
 */
export interface UndoRecorder {
  record(entry: UndoEntry): Promise<void>;
}

export interface OperationContext {
  resource: string;
  group: string;
  /**
   * The resource's parameters as set. A type fills in its own defaults
   * (`withDefaults`); OCF agents get only what is set, as under Pacemaker,
   * and apply their own.
   */
  params: Readonly<Record<string, string>>;
  /** The group's containment (its cgroup); processes enter it before exec. Null: none (tests). */
  containment: Containment | null;
  /** A directory of this resource's own: output files, pid files. Exists when the operation starts. */
  outputDir: string;
  /** Aborted when the operation's deadline passes: stop at once and kill what the operation started. */
  signal: AbortSignal;
  /** The operation's deadline, in ms from its start (OCF passes it as OCF_RESKEY_CRM_meta_timeout). */
  deadlineMs: number;
  log: ResourceLogger;
  /** Null where there is no lease guard (tests). */
  undo: UndoRecorder | null;
  /**
   * Report that an online resource failed by itself (its process exited),
   * the moment it is known: the monitor tells the agent at once instead of
   * waiting for the next check. Only meaningful during and after `online`.
   */
  reportFailure(result: OperationFailure): void;
}

export interface ResourceType {
  /** Parameters the type takes, with their defaults. */
  describe(): Promise<TypeDescription>;
  /** Every problem with `params` (as given, before defaults). */
  validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]>;
  /** Start the resource; resolve once it is usable (idempotent: online when already online is ok). */
  online(ctx: OperationContext): Promise<OperationResult>;
  /** Stop it cleanly (idempotent). */
  offline(ctx: OperationContext): Promise<OperationResult>;
  /** Stop it now, by force; used after failures and deadline overruns. */
  terminate(ctx: OperationContext): Promise<OperationResult>;
  /** Cheap check, run often (e.g. the process exists). */
  quickCheck(ctx: OperationContext): Promise<OperationResult>;
  /** Deeper check, run seldom and after a failed quick check (e.g. it answers). */
  thoroughCheck(ctx: OperationContext): Promise<OperationResult>;
}

export type OperationName = 'online' | 'offline' | 'terminate' | 'quickCheck' | 'thoroughCheck';

export const OPERATION_NAMES: readonly OperationName[] = ['online', 'offline', 'terminate', 'quickCheck', 'thoroughCheck'];
