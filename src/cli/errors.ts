// The two errors a command may throw. The top-level handler (run.ts) turns
// either into `error: ...` / `hint: ...` on stderr, or a JSON error object
// on stdout, and an exit code from exit-codes.ts.
import { ApiCallError } from '../client/agent-client.js';
import { LabError } from '../lab/lab-error.js';
import { exitCodeFor } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';

/** A failure with a stable code (`E_NOT_FOUND`, `E_NO_QUORUM`, ...). */
export class FcmError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'FcmError';
    this.code = code;
    this.hint = hint;
    // One table decides exit codes, so a code always exits the same way.
    this.exitCode = exitCodeFor(code);
  }
}

/** The command line itself is wrong: exit 2, before anything was done. */
export class UsageError extends FcmError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, hint);
    this.name = 'UsageError';
  }
}

/** Hints for lab codes: LabError carries its problems in the message, not a hint. */
const LAB_HINTS: Readonly<Record<string, string>> = {
  E_NO_LAB: 'start one with fcm lab up, or name one with --lab DIR',
  E_CORRUPT_STATE: 'take the lab down with fcm lab down and start a new one',
};

/** An error of the agent library with a stable code (E_...), as the CLI reports it; null for any other. */
export function fromCodedError(thrown: unknown): FcmError | null {
  const { code, hint } = thrown as { code?: unknown; hint?: unknown };
  if (!(thrown instanceof Error) || typeof code !== 'string' || !/^E_[A-Z_]+$/.test(code)) return null;
  return new FcmError(code, thrown.message, typeof hint === 'string' ? hint : undefined);
}

/**
 * The agent's errors (ApiCallError) and the lab's (LabError) keep their
 * codes; anything else thrown that is not an FcmError is a bug: E_INTERNAL.
 */
export function asFcmError(thrown: unknown): FcmError {
  if (thrown instanceof FcmError) return thrown;
  if (thrown instanceof ApiCallError) return fromApiError(thrown);
  if (thrown instanceof LabError) return new FcmError(thrown.code, thrown.message, LAB_HINTS[thrown.code]);
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new FcmError('E_INTERNAL', message, 'this is a bug in fcm; run again with -v for the stack trace');
}

interface ReportLike {
  message: string;
  hint?: string;
  severity?: string;
  forceable?: boolean;
}

function isReport(value: unknown): value is ReportLike {
  return typeof value === 'object' && value !== null && typeof (value as ReportLike).message === 'string';
}

/**
 * Every problem the agent reported goes into the message (one retry fixes
 * them all), their hints into the hint, and a refusal that --force can
 * override says so.
 */
function fromApiError(err: ApiCallError): FcmError {
  const reports = (err.reports ?? []).filter(isReport).filter((r) => r.severity !== 'warning');
  const problems = reports.map((r) => r.message);
  // The agent's message often is the first problem (plus "and N more"): then the list says it all.
  const message = problems.length === 0 ? err.message
    : err.message.startsWith(problems[0] ?? '') ? problems.join('; ')
      : `${err.message}: ${problems.join('; ')}`;
  const hints = [err.hint, ...reports.map((r) => r.hint)].filter((h): h is string => h !== undefined && h !== '');
  if (reports.some((r) => r.forceable === true)) hints.push('use --force to override');
  const hint = [...new Set(hints)].join('; ');
  return new FcmError(err.code, message, hint === '' ? undefined : hint);
}
