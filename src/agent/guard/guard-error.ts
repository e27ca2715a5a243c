// Errors of the lease guard: a stable code, a message, and every problem
// found when input was refused (not only the first).

export type GuardErrorCode =
  | 'E_INVALID'
  | 'E_TOO_LARGE'
  | 'E_BUSY'
  | 'E_GUARD_RUNNING'
  | 'E_NO_CGROUP'
  | 'E_KILL_TIMEOUT'
  | 'E_UNDO_FAILED'
  | 'E_CORRUPT'
  | 'E_WATCHDOG'
  | 'E_GUARD_GONE';

export interface GuardProblem {
  code: GuardErrorCode;
  /** The field of the input that is wrong, when there is one. */
  field?: string;
  message: string;
}

export class GuardError extends Error {
  constructor(
    readonly code: GuardErrorCode,
    message: string,
    readonly problems: GuardProblem[] = [],
  ) {
    super(message);
    this.name = 'GuardError';
  }
}

/** Throws E_INVALID carrying every problem, when there are any. */
export function refuseProblems(what: string, problems: GuardProblem[]): void {
  if (problems.length === 0) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new GuardError('E_INVALID', `${what}: ${problems[0]?.message ?? 'invalid'}${more}`, problems);
}

/**
 * Group names become directory names (cgroups, journals), so they are
 * limited to a safe alphabet. A leading dot or `cgroup.` would collide with
 * hidden or cgroup interface files.
 */
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,127}$/;

export function groupNameProblems(name: unknown, field = 'group'): GuardProblem[] {
  if (typeof name !== 'string' || !GROUP_NAME.test(name) || name.startsWith('cgroup.')) {
    return [{ code: 'E_INVALID', field, message: `${field} must be 1-128 characters of [A-Za-z0-9_.@:+-], not starting with '.', '-' or 'cgroup.'; got ${JSON.stringify(name)}` }];
  }
  return [];
}

export function assertGroupName(name: string): void {
  refuseProblems('bad group name', groupNameProblems(name));
}

/** The errno code of a thrown Node error, if any. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
