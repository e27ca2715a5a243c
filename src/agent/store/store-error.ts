/**
 * Stable codes:
 * - `E_INVALID`: the update breaks the log's rules (gap, term going back, a
 *   changed vote within a term...); nothing was written. `problems` lists all.
 * - `E_LOG_CORRUPT`: the store opened with `logCorrupt`; it refuses writes so
 *   that the damaged files stay as they are for repair.
 * - `E_STORE_FAILED`: an earlier write or fsync failed. The store refuses
 *   everything after: after a failed fsync the kernel may have dropped the
 *   dirty pages, so a retry could acknowledge data that is not on disk.
 *   Restart and recover from the files.
 * - `E_CLOSED`: used after close().
 */
export type StoreErrorCode = 'E_INVALID' | 'E_LOG_CORRUPT' | 'E_STORE_FAILED' | 'E_CLOSED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly problems: string[];

  constructor(code: StoreErrorCode, message: string, problems: string[] = [], options?: { cause?: unknown }) {
    super(problems.length > 0 ? `${message}: ${problems.join('; ')}` : message, options);
    this.name = 'StoreError';
    this.code = code;
    this.problems = problems;
  }
}
