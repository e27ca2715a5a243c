// The errors the agent answers API calls with: a stable code, a message
// that says what failed, an optional hint that says what to do next, and
// the cluster database's reports when a command was refused.
import type { ApiErrorBody } from '../../client/api.js';
import type { Report } from '../db/report.js';

export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly reports?: Report[],
  ) {
    super(message);
    this.name = 'AgentError';
  }

  toBody(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.reports === undefined || this.reports.length === 0 ? {} : { reports: this.reports }),
    };
  }
}

/** The database refused a command: the first error's code, every report attached. */
export function refusedByReports(reports: Report[], what: string): AgentError {
  const errors = reports.filter((r) => r.severity === 'error');
  const first = errors[0] ?? reports[0];
  if (first === undefined) return new AgentError('E_REFUSED', `${what} was refused`);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  const hint = first.hint ?? (first.forceable ? 'use --force to override' : undefined);
  return new AgentError(first.code, `${first.message}${more}`, hint, reports);
}

/** Anything thrown inside a method, as an error body: codes of known errors pass through, the rest is E_INTERNAL. */
export function errorBody(thrown: unknown): ApiErrorBody {
  if (thrown instanceof AgentError) return thrown.toBody();
  const code: unknown = thrown instanceof Error ? (thrown as Error & { code?: unknown }).code : undefined;
  // Errors of other layers with a stable code (RuntimeError, StoreError, TransportError, DbError) keep it.
  if (thrown instanceof Error && typeof code === 'string' && /^E_[A-Z_]+$/.test(code)) return { code, message: thrown.message };
  return { code: 'E_INTERNAL', message: thrown instanceof Error ? thrown.message : String(thrown), hint: 'this is a bug in the fcm agent; see its log' };
}
