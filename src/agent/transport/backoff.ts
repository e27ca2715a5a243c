// Redial delays for a dropped link: exponential, capped, with jitter so that
// the links of a whole cluster do not redial a restarted node in lockstep.

export interface BackoffPolicy {
  /** Delay before the first redial, ms. */
  initialMs: number;
  /** Largest delay, ms. */
  maxMs: number;
  /** Growth per failed attempt. */
  factor: number;
}

/** Default: 50 ms, 100 ms, ... capped at 2 s, so a peer back from a restart is reached within ~2 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 2000, factor: 2 };

/**
 * Delay before redial number `attempt` (0 for the first), ms: the capped
 * exponential ceiling scaled into [ceiling / 2, ceiling) by `random` in [0, 1).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return ceiling / 2 + (random() * ceiling) / 2;
}
