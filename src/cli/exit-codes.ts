// Exit codes of `fcm`, documented in fcm(1) under EXIT STATUS. Scripts
// branch on these, so a number never changes meaning once released.

export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  NotFound: 3,
  Refused: 4,
  Unavailable: 5,
  TimedOut: 6,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, in the words of the man page. */
export const EXIT_CODE_MEANINGS: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.Ok, 'ok'],
  [ExitCode.Failed, 'operation failed'],
  [ExitCode.Usage, 'usage error'],
  [ExitCode.NotFound, 'not found'],
  [ExitCode.Refused, 'refused or conflict (the state does not allow it)'],
  [ExitCode.Unavailable, 'no quorum, or the cluster is unavailable'],
  [ExitCode.TimedOut, 'timed out waiting'],
];

/** Error code → exit code. Codes not listed exit with ExitCode.Failed. */
export const EXIT_CODE_BY_ERROR_CODE: ReadonlyMap<string, ExitCode> = new Map([
  ['E_USAGE', ExitCode.Usage],
  ['E_NOT_FOUND', ExitCode.NotFound],
  ['E_REFUSED', ExitCode.Refused],
  ['E_CONFLICT', ExitCode.Refused],
  ['E_EXISTS', ExitCode.Refused],
  // The cluster database's refusals of a change the current state does not allow.
  ['E_QUORUM_AT_RISK', ExitCode.Refused],
  ['E_LAST_VOTER', ExitCode.Refused],
  ['E_LAST_ADMIN', ExitCode.Refused],
  ['E_IN_USE', ExitCode.Refused],
  ['E_NOT_OFFLINE', ExitCode.Refused],
  ['E_NODE_PAUSED', ExitCode.Refused],
  ['E_NOT_ONLINE', ExitCode.Refused],
  ['E_NOT_POSSIBLE_OWNER', ExitCode.Refused],
  ['E_NO_CANDIDATE', ExitCode.Refused],
  ['E_DEPENDENCY_CYCLE', ExitCode.Refused],
  ['E_DEPENDENCY_OUTSIDE_GROUP', ExitCode.Refused],
  ['E_NO_QUORUM', ExitCode.Unavailable],
  ['E_UNAVAILABLE', ExitCode.Unavailable],
  ['E_NOT_LEADER', ExitCode.Unavailable],
  ['E_TIMEOUT', ExitCode.TimedOut],
]);

export function exitCodeFor(errorCode: string): ExitCode {
  return EXIT_CODE_BY_ERROR_CODE.get(errorCode) ?? ExitCode.Failed;
}
