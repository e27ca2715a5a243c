// Stable codes for everything the lab machinery refuses. The CLI maps them to
// exit codes; tests match on `code`, never on the English message.

export type LabErrorCode =
  /** No lab was found: no --lab, no FCM_LAB, no current-lab record, or no lab.json in the directory. */
  | 'E_NO_LAB'
  /** lab.json (or another lab file) exists but is not valid JSON of the expected shape. `problems` lists all. */
  | 'E_CORRUPT_STATE'
  /** A node named in a request is not part of the lab / relay. */
  | 'E_NOT_FOUND'
  /** A request, a config or a path is malformed. `problems` lists every problem. */
  | 'E_INVALID'
  /** Something already holds the resource (a live relay on the control socket). */
  | 'E_EXISTS'
  /** A process did not start, or could not be spawned. */
  | 'E_SPAWN'
  /** A process could not bind its port: taken between allocation and bind. Start again with fresh ports. */
  | 'E_ADDRESS_IN_USE'
  /** A bounded wait ran out (a process that does not die even after SIGKILL, a relay that never got ready). */
  | 'E_TIMEOUT'
  /** The relay's control socket could not be reached or answered badly. */
  | 'E_UNAVAILABLE';

export class LabError extends Error {
  readonly code: LabErrorCode;
  readonly problems: string[];
  /** The message without the problems appended (for passing the error on as data). */
  readonly summary: string;

  constructor(code: LabErrorCode, message: string, problems: string[] = [], options?: { cause?: unknown }) {
    super(problems.length > 0 ? `${message}: ${problems.join('; ')}` : message, options);
    this.name = 'LabError';
    this.code = code;
    this.problems = problems;
    this.summary = message;
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
