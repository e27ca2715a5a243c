// The resource world's knobs, drawn from their own stream of the seed so
// that runs without resources draw exactly what they drew before. Half
// the seeds run resources (all with `--resources`): groups of dependent
// resources, a monitor whose operations take time and sometimes fail,
// resources that die, and pauses of the agent, the monitor, the guard or
// the whole node within the assumptions (A2, A3: guard and whole-node
// pauses never exceed λ).
import type { RaftConfig } from '../../src/agent/consensus/config.js';
import { leaseProfiles } from '../../src/agent/core/lease-config.js';
import type { LeaseTiming } from '../../src/agent/core/lease-config.js';
import type { LivenessThresholds } from '../../src/agent/core/membership.js';
import type { WorldParams } from './params.js';
import type { SimRng } from './rng.js';

export interface ResourceSpec {
  name: string;
  /** A dependency expression over the group's other resources, or ''. */
  dependsOn: string;
}

export interface GroupSpec {
  name: string;
  priority: number;
  /** Node ids; empty: any node. */
  possibleOwners: string[];
  /** In an order in which each resource's dependencies come first. */
  resources: ResourceSpec[];
}

export interface ResourceParams {
  enabled: boolean;
  timing: LeaseTiming;
  liveness: LivenessThresholds;
  groups: GroupSpec[];
  /** Restart policy of every group: restarts within the period, delay (ms); failovers within the period. */
  maxRestarts: number;
  restartDelayMs: number;
  failoverThreshold: number;
  /** Monitor: ms from receiving an operation to beginning it, at most; ms an operation takes. */
  opLatencyMaxMs: number;
  opMinMs: number;
  opMaxMs: number;
  startFailProb: number;
  stopFailProb: number;
  /** Mean ms a running resource lives before it dies by itself (Infinity: never). */
  failEveryMs: number;
  /** A health check notices a dead resource within this many ms. */
  detectMaxMs: number;
  /** Mean ms between pauses of some node's agent (Infinity: none), and their longest length (ms). */
  agentPauseEveryMs: number;
  agentPauseMaxMs: number;
  monitorPauseEveryMs: number;
  monitorPauseMaxMs: number;
  /** Guard and whole-node pauses last at most λ (A2, A3). */
  guardPauseEveryMs: number;
  nodePauseEveryMs: number;
  /** Every clock at one end of ±ρ (the worst case for leases); overrides the world's clock draw. */
  skewClocks: boolean;
  /** The guard always acts λ after its deadline and its kill always takes K: the latest A2 allows. */
  guardWorstCase: boolean;
  /** Probability that a lease grant is held up on the way, by up to `grantDelayMaxMs`. */
  grantDelayProb: number;
  grantDelayMaxMs: number;
  /**
   * Probability that a node is cut off from everyone right after it applies
   * a grant listing groups: it runs them on to its lease end while the
   * leader places them elsewhere, the race rule 4 is about.
   */
  isolateOnGrantProb: number;
  /**
   * Probability that, as a grant listing groups leaves held up by more than
   * L/4, nobody hears its receiver any more: the held-up grant is the last
   * one it gets, and arrives late (the race rule 1's anchor is about).
   */
  muteOnLateGrantProb: number;
  /**
   * Mean ms between administrator operations during the safety phase
   * (Infinity: none): resource offline / online / fail, group cleanup.
   */
  adminOpEveryMs: number;
}

/** The lease timing matching the consensus timers: `fast` with the fast profile, else `lan`; LL as configured. */
export function leaseTimingFor(config: RaftConfig): LeaseTiming {
  const base = config.heartbeatIntervalMs === leaseProfiles.fast.heartbeatIntervalMs ? leaseProfiles.fast : leaseProfiles.lan;
  return {
    ...base,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    electionTimeoutMinMs: config.electionTimeoutMinMs,
    leaderLeaseMs: config.leaderLeaseMs,
    clockRateBound: config.clockRateBound,
  };
}

export function drawResourceParams(rng: SimRng, config: RaftConfig, nodeIds: readonly string[], forced: boolean | undefined): ResourceParams {
  const enabled = forced ?? rng.chance(0.5);
  const timing = leaseTimingFor(config);
  const l = timing.nodeLeaseMs;
  const on = (p: number): boolean => rng.chance(p);
  const groups: GroupSpec[] = [];
  const groupCount = rng.int(1, 4);
  for (let g = 1; g <= groupCount; g++) {
    const owners = nodeIds.length > 2 && on(0.3) ? rng.shuffle([...nodeIds]).slice(0, rng.int(2, nodeIds.length - 1)).sort() : [];
    groups.push({ name: `g${g}`, priority: rng.int(1, 3000), possibleOwners: owners, resources: drawResources(rng, `g${g}`) });
  }
  return {
    enabled,
    timing,
    liveness: { heartbeatIntervalMs: timing.heartbeatIntervalMs, suspectAfterIntervals: 3, downAfterIntervals: rng.pick([4, 6, 10]) },
    groups,
    maxRestarts: rng.pick([0, 1, 3]),
    restartDelayMs: rng.pick([0, 50, 200]),
    failoverThreshold: rng.pick([1, 2, 5]),
    opLatencyMaxMs: rng.pick([0.1, 2, 10]),
    opMinMs: rng.pick([0.5, 5]),
    opMaxMs: rng.pick([10, 50, l / 2]),
    startFailProb: on(0.3) ? rng.pick([0.02, 0.1]) : 0,
    stopFailProb: on(0.2) ? rng.pick([0.02, 0.1]) : 0,
    failEveryMs: on(0.5) ? rng.pick([1000, 4000, 15000]) : Infinity,
    detectMaxMs: rng.pick([5, 50, 300]),
    agentPauseEveryMs: on(0.4) ? rng.pick([500, 2000]) : Infinity,
    agentPauseMaxMs: rng.pick([l / 4, l, 2 * l]),
    monitorPauseEveryMs: on(0.4) ? rng.pick([500, 2000]) : Infinity,
    monitorPauseMaxMs: rng.pick([l / 4, l, 2 * l]),
    guardPauseEveryMs: on(0.4) ? rng.pick([300, 1000]) : Infinity,
    nodePauseEveryMs: on(0.3) ? rng.pick([300, 1000]) : Infinity,
    skewClocks: on(0.8),
    guardWorstCase: on(0.5),
    grantDelayProb: on(0.7) ? rng.pick([0.02, 0.05]) : 0,
    grantDelayMaxMs: l,
    isolateOnGrantProb: on(0.8) ? rng.pick([0.02, 0.05]) : 0,
    muteOnLateGrantProb: on(0.8) ? 0.5 : 0,
    adminOpEveryMs: on(0.5) ? rng.pick([300, 1000]) : Infinity,
  };
}

/** One to four resources in one of a few dependency shapes. */
function drawResources(rng: SimRng, group: string): ResourceSpec[] {
  const r = (suffix: string, dependsOn = ''): ResourceSpec => ({ name: `${group}-${suffix}`, dependsOn });
  switch (rng.pick(['one', 'chain', 'fan-in', 'either', 'free'] as const)) {
    case 'one':
      return [r('a')];
    case 'chain':
      return [r('a'), r('b', `${group}-a`), r('c', `${group}-b`)];
    case 'fan-in':
      return [r('a'), r('b'), r('c', `${group}-a and ${group}-b`)];
    case 'either':
      return [r('a'), r('b'), r('c', `${group}-a or ${group}-b`), r('d', `${group}-c`)];
    case 'free':
      return [r('a'), r('b')];
  }
}

/**
 * What a resource run changes in the world: no membership changes (the
 * database's node list stays the initial one); clocks at the ends of ±ρ when
 * the seed says so; and random partitions rare enough that a node cut off
 * after a grant stays cut off until the leader has placed its groups
 * elsewhere.
 */
export function resourceOverrides(p: WorldParams, r: ResourceParams): Partial<WorldParams> {
  const isolating = r.isolateOnGrantProb > 0 || (r.muteOnLateGrantProb > 0 && r.grantDelayProb > 0);
  return {
    membershipEveryMs: Infinity,
    ...(r.skewClocks ? { clockSpread: p.config.clockRateBound, extremeClocks: true } : {}),
    ...(isolating ? { partitionEveryMs: Math.max(p.partitionEveryMs, 4 * r.timing.nodeLeaseMs) } : {}),
  };
}

/** One line for the head of a trace. */
export function describeResources(r: ResourceParams): string {
  const groups = r.groups.map((g) => `${g.name}[${g.resources.map((x) => x.dependsOn === '' ? x.name : `${x.name}<-(${x.dependsOn})`).join(' ')}]` +
    `${g.possibleOwners.length > 0 ? `on ${g.possibleOwners.join(',')}` : ''}`);
  return [
    `L=${r.timing.nodeLeaseMs} h=${r.timing.heartbeatIntervalMs} λ=${r.timing.guardLatencyMs} K=${r.timing.killTimeMs} down=${r.liveness.downAfterIntervals}h`,
    `groups ${groups.join(' ')}`,
    `op=${r.opMinMs}..${r.opMaxMs} startFail=${r.startFailProb} stopFail=${r.stopFailProb} failEvery=${r.failEveryMs} restarts=${r.maxRestarts}/${r.restartDelayMs}ms`,
    `pauses agent=${r.agentPauseEveryMs}/${r.agentPauseMaxMs} monitor=${r.monitorPauseEveryMs}/${r.monitorPauseMaxMs} guard=${r.guardPauseEveryMs} node=${r.nodePauseEveryMs}`,
    `adminOps=${r.adminOpEveryMs} skew=${r.skewClocks} guardWorst=${r.guardWorstCase} grantDelay=${r.grantDelayProb}/${r.grantDelayMaxMs} isolateOnGrant=${r.isolateOnGrantProb} muteOnLateGrant=${r.muteOnLateGrantProb}`,
  ].join(' ');
}
