// The two errors a command may throw. The top-level handler (run.ts) turns
// either into `error: ...` / `hint: ...` on stderr, or a JSON error object
// on stdout, and an exit code from exit-codes.ts.
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

/** Anything thrown that is not an FcmError is a bug: report it as E_INTERNAL. */
export function asFcmError(thrown: unknown): FcmError {
  if (thrown instanceof FcmError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new FcmError('E_INTERNAL', message, 'this is a bug in fcm; run again with -v for the stack trace');
}
