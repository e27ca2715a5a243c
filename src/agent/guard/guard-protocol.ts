// The agent ↔ lease guard protocol: JSON lines on a Unix socket
// (<state-dir>/guard.sock, mode 0600), one agent connection at a time. Every
// request gets one reply line; a request may carry an `id` that its reply
// echoes (replies to stop-group come when the kill is done, so they may
// overtake nothing but may be overtaken). Times are monotonicMs() (clock.ts).
//
//   {op:'lease', deadlineMs, leaseEndMs?, groups}  the groups that may have
//       processes, and when the guard kills them all: lease end - (λ + K).
//       Replaces the previous lease; a group left out is killed at once.
//       leaseEndMs (>= deadlineMs) serves only the watchdog (rule 6).
//   {op:'stop-group', group}   kill the group now and undo its kernel state
//   {op:'status'}              the guard's state and its last expiry

import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { GuardErrorCode, GuardProblem } from './guard-error.js';
import { groupNameProblems } from './guard-error.js';

export const GUARD_SOCKET_NAME = 'guard.sock';
/** A longer line is refused and the connection closed, which kills every group (bytes). */
export const MAX_LINE_BYTES = 256 * 1024;

export function guardSocketPath(stateDir: string): string {
  return join(stateDir, GUARD_SOCKET_NAME);
}

/** The guard's state directory inside an agent's. */
export function guardStateDir(agentStateDir: string): string {
  return join(agentStateDir, 'guard');
}

export type RequestId = string | number;

export type GuardRequest =
  | { op: 'lease'; id?: RequestId; deadlineMs: number; leaseEndMs?: number; groups: string[] }
  | { op: 'stop-group'; id?: RequestId; group: string }
  | { op: 'status'; id?: RequestId };

/** One group killed and undone. */
export interface GroupStop {
  group: string;
  /** Processes it had when killed. */
  pids: number;
  /** Kill signal to empty group, ms. */
  killMs: number;
  /** False: processes remained after the kill timeout. */
  empty: boolean;
  undone: number;
  /** Why something could not be killed or undone; empty when all went well. */
  errors: string[];
}

/** One time the guard killed everything: at its deadline, when the agent went, at its own start or stop. */
export interface ExpiryRecord {
  reason: 'deadline' | 'agent-gone' | 'startup' | 'guard-stop';
  /** The deadline that fired; null when the reason was not a deadline. */
  deadlineMs: number | null;
  /** monotonicMs() when the guard found it had to act. */
  firedAtMs: number;
  /** λ measured: firedAtMs - deadlineMs; null when not a deadline. */
  latenessMs: number | null;
  /** K measured: from firedAtMs until every group was killed and undone. */
  killMs: number;
  stops: GroupStop[];
}

export interface GuardStatus {
  pid: number;
  nowMs: number;
  deadlineMs: number | null;
  leaseEndMs: number | null;
  groups: string[];
  containment: { kind: 'cgroup' | 'process-group'; root: string };
  expiries: number;
  lastExpiry: ExpiryRecord | null;
  watchdog: { path: string; timeoutMs: number; fed: number } | null;
}

export type GuardReply =
  | { ok: true; op: 'lease'; id?: RequestId }
  | ({ ok: true; op: 'stop-group'; id?: RequestId } & GroupStop)
  | { ok: true; op: 'status'; id?: RequestId; status: GuardStatus }
  | { ok: false; id?: RequestId; code: GuardErrorCode; message: string; problems: GuardProblem[]; stop?: GroupStop };

export type ParsedRequest = { ok: true; request: GuardRequest } | { ok: false; id?: RequestId; problems: GuardProblem[] };

const FIELDS: Record<GuardRequest['op'], string[]> = {
  lease: ['op', 'id', 'deadlineMs', 'leaseEndMs', 'groups'],
  'stop-group': ['op', 'id', 'group'],
  status: ['op', 'id'],
};

/** Parses one request line, returning every problem with it. */
export function parseGuardRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, problems: [{ code: 'E_INVALID', message: 'request is not JSON' }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: [{ code: 'E_INVALID', message: 'request must be a JSON object' }] };
  }
  const r = value as Record<string, unknown>;
  const id = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : undefined;
  const problems: GuardProblem[] = [];
  const bad = (field: string, message: string): void => {
    problems.push({ code: 'E_INVALID', field, message });
  };
  if (r.id !== undefined && (id === undefined || (typeof id === 'string' && id.length > 128) || (typeof id === 'number' && !Number.isFinite(id)))) {
    bad('id', 'id must be a finite number or a string of at most 128 characters');
  }
  const fields = typeof r.op === 'string' && Object.hasOwn(FIELDS, r.op) ? FIELDS[r.op as GuardRequest['op']] : undefined;
  if (fields === undefined) {
    bad('op', `op must be one of ${Object.keys(FIELDS).join(', ')}; got ${JSON.stringify(r.op)}`);
    return { ok: false, ...(id === undefined ? {} : { id }), problems };
  }
  for (const key of Object.keys(r)) if (!fields.includes(key)) bad(key, `unknown field ${key} for op ${String(r.op)}`);
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (r.op === 'lease') {
    if (!finite(r.deadlineMs)) bad('deadlineMs', 'deadlineMs must be a finite number (monotonic ms)');
    if (r.leaseEndMs !== undefined && (!finite(r.leaseEndMs) || (finite(r.deadlineMs) && r.leaseEndMs < r.deadlineMs))) {
      bad('leaseEndMs', 'leaseEndMs must be a finite number, not before deadlineMs');
    }
    if (!Array.isArray(r.groups)) bad('groups', 'groups must be an array of group names');
    else {
      r.groups.forEach((g, i) => problems.push(...groupNameProblems(g, `groups[${i}]`)));
      if (new Set(r.groups).size !== r.groups.length) bad('groups', 'groups must not repeat a name');
    }
  }
  if (r.op === 'stop-group') problems.push(...groupNameProblems(r.group));
  if (problems.length > 0) return { ok: false, ...(id === undefined ? {} : { id }), problems };
  return { ok: true, request: value as GuardRequest };
}

/**
 * Calls `onLine` for every complete line read from `socket`; `onTooLong`
 * once, if a line grows beyond MAX_LINE_BYTES (the caller closes the socket).
 */
export function readLines(socket: Socket, onLine: (line: string) => void, onTooLong: () => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) break;
      if (line.trim() !== '') onLine(line);
    }
    if (newline >= 0 || Buffer.byteLength(buffered) > MAX_LINE_BYTES) {
      buffered = '';
      socket.removeAllListeners('data');
      onTooLong();
    }
  });
}
