// Tuning of the consensus core. One object, every field with its unit,
// default and trade-off; profiles derive from the default by overriding a
// few fields (model: hashicorp/memberlist's LAN/WAN configs).

export interface RaftConfig {
  /**
   * h, ms (default 100). The leader sends a heartbeat round this often. Each
   * round refreshes followers' election timers and, once a quorum acks it,
   * extends the leader lease. Shorter: faster lease renewal and read-index,
   * more messages.
   */
  heartbeatIntervalMs: number;
  /**
   * E_min, ms (default 300). A follower's election timeout is drawn from
   * [E_min, 2 E_min) each time its timer is reset. It is also the stickiness
   * window: a voter refuses (pre-)votes for E_min after it heard from a leader
   * and after its own start, and a leader steps down when a voter quorum has
   * been silent for E_min (check-quorum). Shorter: faster failover, more
   * spurious elections on a slow network. Must be >= 3 h.
   */
  electionTimeoutMinMs: number;
  /**
   * LL, ms (default 240). After a quorum acknowledged the heartbeat round
   * sent at local time t, the leader holds its lease until t + LL. Must be
   * <= E_min (1 - ρ) / (1 + ρ), so that the lease ends (in real time) before
   * the voters that acknowledged it stop refusing votes. Longer: fewer lease
   * gaps; bounded by the election timeout.
   */
  leaderLeaseMs: number;
  /**
   * ρ, dimensionless (default 0.1). Bound on how far any node's monotonic
   * clock rate may stray from real time (assumption A1). Larger: safer on
   * badly slewed clocks, shorter permitted lease.
   */
  clockRateBound: number;
  /**
   * Entries per append message (default 512). Larger: fewer messages while
   * catching up, longer head-of-line blocking for heartbeats on a slow link.
   * Also the bound within which a learner must have caught up to be promoted.
   */
  maxEntriesPerAppend: number;
  /**
   * Bytes of entry data (UTF-8) per append message (default 1 MiB). An
   * append always carries at least one entry, even a larger one.
   */
  maxBytesPerAppend: number;
  /**
   * Appends in flight per follower before the leader waits for an ack
   * (default 64). Larger: more throughput on a long fat link, more data
   * resent after a loss.
   */
  maxInflightAppends: number;
  /**
   * Entries the leader holds appended but not committed before it refuses
   * proposals with E_BUSY (default 4096). Bounds memory and the time a new
   * leader needs to catch followers up.
   */
  maxUncommittedEntries: number;
  /**
   * ms (default E_min). A leadership transfer that has not completed in
   * this time is abandoned and the leader accepts proposals again.
   */
  transferTimeoutMs: number;
}

export const defaultRaftConfig: RaftConfig = {
  heartbeatIntervalMs: 100,
  electionTimeoutMinMs: 300,
  leaderLeaseMs: 240,
  clockRateBound: 0.1,
  maxEntriesPerAppend: 512,
  maxBytesPerAppend: 1024 * 1024,
  maxInflightAppends: 64,
  maxUncommittedEntries: 4096,
  transferTimeoutMs: 300,
};

/**
 * `lan`: the default. `wan`: links with 50-200 ms round trips; slower timers
 * so that a slow round trip is not taken for a dead leader. `fast`: tests
 * and the simulator, where simulated time is cheap but real steps are not.
 */
export const raftProfiles: { lan: RaftConfig; wan: RaftConfig; fast: RaftConfig } = {
  lan: defaultRaftConfig,
  wan: {
    ...defaultRaftConfig,
    heartbeatIntervalMs: 300,
    electionTimeoutMinMs: 1500,
    leaderLeaseMs: 1200,
    transferTimeoutMs: 1500,
    maxInflightAppends: 256,
  },
  fast: {
    ...defaultRaftConfig,
    heartbeatIntervalMs: 20,
    electionTimeoutMinMs: 100,
    leaderLeaseMs: 80,
    transferTimeoutMs: 100,
  },
};

export interface ConfigProblem {
  code: string;
  /** The RaftConfig field at fault. */
  field: string;
  message: string;
}

const positiveIntegerFields: (keyof RaftConfig)[] = [
  'heartbeatIntervalMs',
  'electionTimeoutMinMs',
  'leaderLeaseMs',
  'maxEntriesPerAppend',
  'maxBytesPerAppend',
  'maxInflightAppends',
  'maxUncommittedEntries',
  'transferTimeoutMs',
];

/** Every problem with `c`, cross-field ones included; empty when it is usable. */
export function validateRaftConfig(c: RaftConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];

  for (const field of positiveIntegerFields) {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      problems.push({ code: 'E_NOT_POSITIVE_INTEGER', field, message: `${field} must be a positive integer, got ${String(v)}` });
    }
  }
  const rho = c.clockRateBound;
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0 || rho >= 1) {
    problems.push({ code: 'E_CLOCK_RATE_BOUND', field: 'clockRateBound', message: `clockRateBound must be in [0, 1), got ${String(rho)}` });
  }

  // Cross-field checks only between fields that are well-formed on their own.
  const malformed = new Set(problems.map((p) => p.field));
  const valid = (field: keyof RaftConfig): boolean => !malformed.has(field);
  const h = c.heartbeatIntervalMs;
  const eMin = c.electionTimeoutMinMs;
  const ll = c.leaderLeaseMs;
  if (valid('heartbeatIntervalMs') && valid('electionTimeoutMinMs') && eMin < 3 * h) {
    problems.push({
      code: 'E_ELECTION_TIMEOUT_TOO_SHORT',
      field: 'electionTimeoutMinMs',
      message: `electionTimeoutMinMs (${eMin}) must be at least 3 heartbeat intervals (${3 * h}) so that one lost heartbeat does not start an election`,
    });
  }
  if (valid('electionTimeoutMinMs') && valid('leaderLeaseMs') && valid('clockRateBound')) {
    const bound = (eMin * (1 - rho)) / (1 + rho);
    if (ll > bound) {
      problems.push({
        code: 'E_LEADER_LEASE_TOO_LONG',
        field: 'leaderLeaseMs',
        message: `leaderLeaseMs (${ll}) must be at most electionTimeoutMinMs (1 - ρ) / (1 + ρ) = ${Math.floor(bound)}, or a new leader could be elected while the old lease holds`,
      });
    }
  }
  if (valid('heartbeatIntervalMs') && valid('leaderLeaseMs') && ll <= h) {
    problems.push({
      code: 'E_LEADER_LEASE_TOO_SHORT',
      field: 'leaderLeaseMs',
      message: `leaderLeaseMs (${ll}) must be longer than heartbeatIntervalMs (${h}), or the lease lapses between heartbeat rounds`,
    });
  }
  return problems;
}
