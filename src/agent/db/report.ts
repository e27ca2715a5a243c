// Reports: how the cluster database says what is wrong with a command.
// Model: ClusterLabs/pcs's library reports. Validation collects every
// problem as a report with a stable code, a severity and the field it is
// about; it never prints and never stops at the first problem. The CLI
// renders reports and adds "use --force to override" to forceable ones.

export type Severity = 'error' | 'warning';

/** Stable codes: the CLI maps them to exit codes, tests assert them. */
export type ReportCode =
  | 'E_INVALID_NAME'
  | 'E_INVALID_VALUE'
  | 'E_INVALID_DURATION'
  | 'E_REQUIRED'
  | 'E_UNKNOWN_FIELD'
  | 'E_UNKNOWN_PROPERTY'
  | 'E_UNKNOWN_PARAMETER'
  | 'E_MISSING_PARAMETER'
  | 'E_UNKNOWN_COMMAND'
  | 'E_MALFORMED'
  | 'E_NOT_FOUND'
  | 'E_EXISTS'
  | 'E_IN_USE'
  | 'E_BUILTIN'
  | 'E_NOT_OFFLINE'
  | 'E_NOT_ONLINE'
  | 'E_GROUP_OFFLINE'
  | 'E_DEPENDENCY_OFFLINE'
  | 'E_NO_CANDIDATE'
  | 'E_DEPENDENCY_SYNTAX'
  | 'E_DEPENDENCY_CYCLE'
  | 'E_DEPENDENCY_OUTSIDE_GROUP'
  | 'E_UNSAFE_TIMING'
  | 'E_UNSAFE_TIMING_CHANGE'
  | 'E_FENCING_REQUIRED'
  | 'E_LAST_VOTER'
  | 'E_LAST_ADMIN'
  | 'E_QUORUM_AT_RISK'
  | 'E_NODE_PAUSED'
  | 'E_NOT_POSSIBLE_OWNER'
  | 'E_NOT_OWNER'
  | 'E_ANTI_AFFINITY'
  | 'E_CONFLICT'
  | 'E_STALE_EPOCH'
  | 'E_INVALID_TRANSITION'
  | 'E_OUT_OF_ORDER'
  | 'E_CORRUPT_SNAPSHOT';

export interface Report {
  code: ReportCode;
  severity: Severity;
  message: string;
  hint?: string;
  /** Path of the offending field in the command, e.g. `settings.failoverPeriod`. */
  field?: string;
  /** An error that `force` turns into a warning (and the warning that it did). */
  forceable?: boolean;
}

export interface ReportDetail {
  field?: string;
  hint?: string;
}

export function report(code: ReportCode, severity: Severity, message: string, detail: ReportDetail = {}): Report {
  const out: Report = { code, severity, message };
  if (detail.hint !== undefined) out.hint = detail.hint;
  if (detail.field !== undefined) out.field = detail.field;
  return out;
}

/** Collects the reports of one validation. */
export class ReportSink {
  readonly reports: Report[] = [];

  constructor(readonly force: boolean) {}

  add(r: Report): void {
    this.reports.push(r);
  }

  error(code: ReportCode, message: string, detail?: ReportDetail): void {
    this.reports.push(report(code, 'error', message, detail));
  }

  warning(code: ReportCode, message: string, detail?: ReportDetail): void {
    this.reports.push(report(code, 'warning', message, detail));
  }

  /** An error unless the command was forced; then a warning, recorded in the audit history. */
  forceable(code: ReportCode, message: string, detail?: ReportDetail): void {
    const r = report(code, this.force ? 'warning' : 'error', message, detail);
    r.forceable = true;
    this.reports.push(r);
  }

  get hasErrors(): boolean {
    return this.reports.some((r) => r.severity === 'error');
  }
}

/** Thrown only for caller bugs and corrupt snapshots; commands never throw, they report. */
export class DbError extends Error {
  constructor(
    readonly code: ReportCode,
    message: string,
    readonly reports: Report[] = [],
  ) {
    super(message);
    this.name = 'DbError';
  }
}
