// Timing of node leases (safety rules 1, 2, 4, 5). One object, every field
// with its unit and default; `validateLeaseTiming` returns every problem,
// cross-field ones included. The settle period G is computed from these,
// never configured.

export interface LeaseTiming {
  /** h, ms (default 100). Leader heartbeat interval; holders renew about this often. */
  heartbeatIntervalMs: number;
  /** E_min, ms (default 300). Minimum election timeout and voter stickiness window. */
  electionTimeoutMinMs: number;
  /**
   * L, ms (default 1000). A holder's lease ends L after its anchor. Longer:
   * a leader crash is survived more easily; slower failover of a silent node
   * (the leader waits G, about 1.22 L, before placing its groups elsewhere).
   */
  nodeLeaseMs: number;
  /** LL, ms (default 240). The leader lease (rule 2); held by the consensus core. */
  leaderLeaseMs: number;
  /** ρ, dimensionless in [0, 1) (default 0.1). Bound on any monotonic clock's rate error (A1). */
  clockRateBound: number;
  /** λ, ms (default 50). The lease guard acts within λ of its deadline (A2). */
  guardLatencyMs: number;
  /** K, ms (default 50). Killing a group and undoing its kernel state takes at most K (A2). */
  killTimeMs: number;
  /**
   * 3 RTT, ms (default 6: 2 ms per round trip). Allowance for the three round
   * trips between a leader crash and a renewed lease (request, vote, grant).
   * With the other defaults at most 9 ms fits in L = 1000.
   */
  rttBudgetMs: number;
  /** ε, ms (default 50). Margin added to G; must cover ρ (λ + K), see below. */
  settleMarginMs: number;
}

export const defaultLeaseTiming: LeaseTiming = {
  heartbeatIntervalMs: 100,
  electionTimeoutMinMs: 300,
  nodeLeaseMs: 1000,
  leaderLeaseMs: 240,
  clockRateBound: 0.1,
  guardLatencyMs: 50,
  killTimeMs: 50,
  rttBudgetMs: 6,
  settleMarginMs: 50,
};

/** `lan` is the default; `wan` matches the consensus core's wan timers; `fast` is for tests and the simulator. */
export const leaseProfiles: { lan: LeaseTiming; wan: LeaseTiming; fast: LeaseTiming } = {
  lan: defaultLeaseTiming,
  wan: {
    ...defaultLeaseTiming,
    heartbeatIntervalMs: 300,
    electionTimeoutMinMs: 1500,
    leaderLeaseMs: 1200,
    nodeLeaseMs: 5000,
    rttBudgetMs: 600,
    settleMarginMs: 100,
  },
  fast: {
    ...defaultLeaseTiming,
    heartbeatIntervalMs: 20,
    electionTimeoutMinMs: 100,
    leaderLeaseMs: 80,
    nodeLeaseMs: 300,
    guardLatencyMs: 10,
    killTimeMs: 10,
    rttBudgetMs: 3,
    settleMarginMs: 10,
  },
};

export type LeaseTimingCode =
  | 'E_NOT_POSITIVE'
  | 'E_CLOCK_RATE_BOUND'
  | 'E_ELECTION_TIMEOUT_TOO_SHORT'
  | 'E_LEADER_LEASE_TOO_LONG'
  | 'E_NODE_LEASE_TOO_SHORT'
  | 'E_SETTLE_MARGIN_TOO_SMALL';

export interface LeaseTimingProblem {
  code: LeaseTimingCode;
  field: keyof LeaseTiming;
  message: string;
}

const durationFields: (keyof LeaseTiming)[] = [
  'heartbeatIntervalMs',
  'electionTimeoutMinMs',
  'nodeLeaseMs',
  'leaderLeaseMs',
  'guardLatencyMs',
  'killTimeMs',
  'rttBudgetMs',
  'settleMarginMs',
];

/** Every problem with `t`, cross-field ones included; empty when it is usable. */
export function validateLeaseTiming(t: LeaseTiming): LeaseTimingProblem[] {
  const problems: LeaseTimingProblem[] = [];
  // Cross-field checks run on every field with a usable value, so that one
  // call reports every problem; only unusable values are left out of them.
  const unusable = new Set<keyof LeaseTiming>();
  const ok = (...fields: (keyof LeaseTiming)[]): boolean => fields.every((f) => !unusable.has(f));

  for (const field of durationFields) {
    const v = t[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      problems.push({ code: 'E_NOT_POSITIVE', field, message: `${field} must be a positive number of ms, got ${String(v)}` });
      unusable.add(field);
    }
  }
  const rho = t.clockRateBound;
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho >= 1) {
    problems.push({ code: 'E_CLOCK_RATE_BOUND', field: 'clockRateBound', message: `clockRateBound must be in [0, 1), got ${String(rho)}` });
    unusable.add('clockRateBound');
  }

  const { heartbeatIntervalMs: h, electionTimeoutMinMs: eMin, nodeLeaseMs: l, leaderLeaseMs: ll } = t;
  // One lost heartbeat must not start an election.
  if (ok('heartbeatIntervalMs', 'electionTimeoutMinMs') && eMin < 3 * h) {
    problems.push({
      code: 'E_ELECTION_TIMEOUT_TOO_SHORT',
      field: 'electionTimeoutMinMs',
      message: `electionTimeoutMinMs (${eMin}) must be at least 3 heartbeat intervals (${3 * h})`,
    });
  }
  // Rule 2: the leader lease must end, in real time, before the voters that
  // acknowledged it stop refusing votes, so two leaders never grant at once.
  if (ok('electionTimeoutMinMs', 'leaderLeaseMs', 'clockRateBound')) {
    const bound = (eMin * (1 - rho)) / (1 + rho);
    if (ll > bound) {
      problems.push({
        code: 'E_LEADER_LEASE_TOO_LONG',
        field: 'leaderLeaseMs',
        message: `leaderLeaseMs (${ll}) must be at most electionTimeoutMinMs (1 - ρ) / (1 + ρ) = ${bound.toFixed(1)}`,
      });
    }
  }
  // Liveness, not safety: a healthy node's lease must outlive a leader crash,
  // an election and a renewal, or every leader crash stops every group.
  if (ok('heartbeatIntervalMs', 'electionTimeoutMinMs', 'nodeLeaseMs', 'guardLatencyMs', 'killTimeMs', 'rttBudgetMs', 'clockRateBound')) {
    const need = (1 + rho) * (2 * h + 2 * eMin + t.guardLatencyMs + t.killTimeMs + t.rttBudgetMs);
    if (l < need) {
      problems.push({
        code: 'E_NODE_LEASE_TOO_SHORT',
        field: 'nodeLeaseMs',
        message: `nodeLeaseMs (${l}) must be at least (1 + ρ)(2h + 2 E_min + λ + K + 3 RTT) = ${need.toFixed(1)}`,
      });
    }
  }
  // The guard fires at lease end - (λ + K) on the holder's clock; a clock
  // running fast by ρ makes that lead only (λ + K)/(1 + ρ) of real time, so
  // processes may die up to ρ (λ + K)/(1 + ρ) after the lease end. ε in G
  // (worth ε/(1 + ρ) of real time on the leader's clock) must cover that.
  if (ok('settleMarginMs', 'guardLatencyMs', 'killTimeMs', 'clockRateBound')) {
    const need = rho * (t.guardLatencyMs + t.killTimeMs);
    if (t.settleMarginMs < need) {
      problems.push({
        code: 'E_SETTLE_MARGIN_TOO_SMALL',
        field: 'settleMarginMs',
        message: `settleMarginMs (${t.settleMarginMs}) must be at least ρ (λ + K) = ${need.toFixed(1)}`,
      });
    }
  }
  return problems;
}

/**
 * G = L (1 + ρ)/(1 - ρ) + ε, ms on the leader's clock, for the largest lease
 * `maxGrantedLeaseMs` that may still be running. A lease of L on a clock slow
 * by ρ lasts up to L/(1 - ρ) of real time; G on a clock fast by ρ lasts at
 * least G/(1 + ρ) = L/(1 - ρ) + ε/(1 + ρ). So once G has passed since a grant
 * was made, the lease it gave has ended, its anchor being older than the grant.
 */
export function settlePeriodMs(t: LeaseTiming, maxGrantedLeaseMs: number): number {
  return (maxGrantedLeaseMs * (1 + t.clockRateBound)) / (1 - t.clockRateBound) + t.settleMarginMs;
}
