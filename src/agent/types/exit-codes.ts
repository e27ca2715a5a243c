// What an OCF agent's or an LSB init script's exit status means. OCF and
// LSB share 0-7 for actions; LSB `status` has its own meanings.

import { failure, OK } from './resource-type.js';
import type { FailureSeverity, OperationResult } from './resource-type.js';

export interface ExitCodeMeaning {
  status: number;
  name: string;
  /** null: success. */
  severity: FailureSeverity | null;
}

/**
 * OCF exit codes (OCF resource agent API 1.1). `hard`: this node cannot run
 * it (fail over); `fatal`: the configuration is wrong everywhere.
 * NOT_RUNNING is success for `stop` (the goal is reached) and a soft
 * failure otherwise.
 */
export const OCF_EXIT_CODES: readonly ExitCodeMeaning[] = [
  { status: 0, name: 'SUCCESS', severity: null },
  { status: 1, name: 'ERR_GENERIC', severity: 'soft' },
  { status: 2, name: 'ERR_ARGS', severity: 'hard' },
  { status: 3, name: 'UNIMPLEMENTED', severity: 'hard' },
  { status: 4, name: 'ERR_PERM', severity: 'hard' },
  { status: 5, name: 'NOT_INSTALLED', severity: 'hard' },
  { status: 6, name: 'NOT_CONFIGURED', severity: 'fatal' },
  { status: 7, name: 'NOT_RUNNING', severity: 'soft' },
  // OCF 1.1: running, but degraded; fcm has no use for the difference yet.
  { status: 190, name: 'DEGRADED', severity: null },
];

/** The result of an OCF action, or of an LSB start/stop (prefix LSB), that ended with `status`. */
export function actionResult(action: string, status: number, subject: string, prefix: 'OCF' | 'LSB' = 'OCF'): OperationResult {
  if (status === 7 && action === 'stop') return OK;
  const meaning = OCF_EXIT_CODES.find((m) => m.status === status && (prefix === 'OCF' || m.status < 8));
  if (meaning === undefined) return failure(`E_${prefix}_UNKNOWN_STATUS`, `${subject} ${action}: unknown exit status ${status}`, 'soft');
  if (meaning.severity === null) return OK;
  return failure(`E_${prefix}_${meaning.name}`, `${subject} ${action}: ${meaning.name} (exit status ${status})`, meaning.severity);
}

/** LSB `status`: 0 running, 3 not running, anything else (1 dead with pid file, 2 dead with lock file, 4 unknown) failed. */
export function lsbStatusResult(status: number, subject: string): OperationResult {
  if (status === 0) return OK;
  if (status === 3) return failure('E_LSB_NOT_RUNNING', `${subject} status: not running (exit status 3)`);
  return failure('E_LSB_STATUS_FAILED', `${subject} status: failed (exit status ${status})`);
}
