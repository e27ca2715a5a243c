// Waiting for the cluster to reach a state: ask again every so often, within
// a bound. While a cluster changes (an election, a node restarting) some
// answers are errors; they are retried, and the last one is reported if the
// wait runs out.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiCallError } from './agent-client.js';

export interface PollOptions {
  /** Give up after this long, ms: E_TIMEOUT. */
  timeoutMs: number;
  /** Pause between probes, ms. */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns a value (not undefined). ApiCallErrors
 * count as "not yet"; anything else is a bug and is thrown at once.
 * @param what what is awaited, for the timeout message: `node3 to be Up`
 */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  const deadline = performance.now() + options.timeoutMs;
  let lastError: ApiCallError | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (err) {
      if (!(err instanceof ApiCallError)) throw err;
      lastError = err;
    }
    if (performance.now() + intervalMs > deadline) {
      const last = lastError === undefined ? '' : ` (last answer: ${lastError.code}: ${lastError.message})`;
      throw new ApiCallError('E_TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${what}${last}`, 'wait longer with --timeout, or look at fcm status');
    }
    await sleep(intervalMs);
  }
}
