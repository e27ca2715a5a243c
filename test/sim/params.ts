// Swarm testing: the seed picks the cluster size, the Raft timing profile
// and the fault mix with its intensities, so that across many seeds some
// runs are calm and some hammer one kind of fault hard.
import { defaultRaftConfig, raftProfiles } from '../../src/agent/consensus/config.js';
import type { RaftConfig } from '../../src/agent/consensus/config.js';
import type { SimRng } from './rng.js';

export interface WorldParams {
  profile: Profile;
  nodes: number;
  config: RaftConfig;
  /** Clock rates are drawn within [1 - spread, 1 + spread]; spread <= config.clockRateBound. */
  clockSpread: number;
  /** Each clock sits exactly at one end of the spread (the worst case for leases). */
  extremeClocks: boolean;
  /** Message delay (ms): uniform in [min, max]; a spike (prob) adds up to spikeMs. */
  delayMinMs: number;
  delayMaxMs: number;
  delaySpikeProb: number;
  delaySpikeMs: number;
  lossProb: number;
  dupProb: number;
  /** Mean time between partition changes (ms); Infinity: no partitions. */
  partitionEveryMs: number;
  /** Mean time between crashes (ms); Infinity: none. */
  crashEveryMs: number;
  /** Restart delay (ms): uniform in [0, max]. */
  restartMaxMs: number;
  /** Probability that a node granting a vote crashes before its fsync completes. */
  crashAfterVoteProb: number;
  /** Probability that a node crashes while an fsync is in flight, losing or tearing what it covers. */
  crashDuringSyncProb: number;
  /** Probability that a new leader crashes within a few ms of winning (its noop barely sent). */
  crashAfterElectionProb: number;
  /**
   * Probability that a leader is cut off from everyone at a critical moment:
   * right after winning (its noop and first writes stay local) and right
   * after its first commit. The new cut replaces the old, so whoever was cut
   * off before comes back at that moment.
   */
  isolateLeaderProb: number;
  /**
   * Probability that a leader is cut off right after its lease was renewed:
   * its lease then runs out while the others wait out their stickiness, the
   * race the bound LL <= E_min (1 - ρ) / (1 + ρ) is about.
   */
  isolateOnLeaseRenewProb: number;
  /**
   * Probability that a leader crashes within about a round trip of its
   * first commit in its term, when entries of earlier terms become
   * committed with it: the moment Raft's Figure 8 is about.
   */
  crashAfterFirstCommitProb: number;
  /** Probability that a scheduled crash picks the leader. */
  crashLeaderProb: number;
  /**
   * Mean time (ms) between leader-churn events (Infinity: none): each kills
   * the leader half the time and restarts crashed nodes until a majority is
   * up, so that leaders change often while the cluster keeps working
   * (the "Figure 8" nemesis of MIT 6.824's Raft tests).
   */
  leaderChurnEveryMs: number;
  /** Probability that a restart is a reboot: the monotonic clock starts from a new offset. */
  rebootProb: number;
  /** fsync latency (ms): uniform in [min, max]; slow (prob) adds up to slowMs. */
  fsyncMinMs: number;
  fsyncMaxMs: number;
  fsyncSlowProb: number;
  fsyncSlowMs: number;
  /** Timers fire up to this late (ms). */
  timerLateMaxMs: number;
  /** The shell takes Readies up to this long (ms) after the core has one, batching what comes meanwhile; 0: at once. */
  readyBatchMs: number;
  /** Tick the node before each delivered message as well. */
  tickOnDeliver: boolean;
  /**
   * Apply committed entries (and restore snapshots, serve reads) as soon as
   * a Ready is taken rather than after its fsync: duty 6 allows it, and it
   * shows a commit to the world sooner.
   */
  applyEarly: boolean;
  /** Compact after this many applied entries. */
  compactEvery: number;
  /** Mean time between membership change attempts (ms); Infinity: none. */
  membershipEveryMs: number;
  /** Probability that a removal targets the leader itself. */
  removeLeaderProb: number;
  clients: number;
  keys: number;
  /** Mean think time between a client's operations (ms). */
  clientThinkMs: number;
  /** Probability that a client pauses for 0.5..3 s instead (quiet spells, when logs stay level). */
  clientPauseProb: number;
  /** A client gives up on an operation after this long (ms): outcome unknown. */
  clientTimeoutMs: number;
  readFraction: number;
  /** True time (ms) of the safety phase under faults. */
  safetyMs: number;
}

/** Bound (true ms) within which the healed cluster must serve a read of every key. */
export const LIVENESS_BOUND_MS = 10_000;

/**
 * Fault mixes. `mixed` switches each fault on or off independently; the
 * others concentrate on one hazard, so that rare interleavings come up in
 * a few hundred seeds rather than a few hundred thousand:
 * - `leader-hunter`: leaders are cut off or killed right after winning and
 *   right after their first commit, appends carry one entry at a time, so
 *   that old-term entries sit on a quorum without the new leader's noop
 *   (Raft's Figure 8);
 * - `disruptor`: partial partitions (two nodes that cannot talk but both
 *   reach the rest) and quiet clients, so that a node that lost the leader
 *   campaigns with an up-to-date log while the leader still holds its lease;
 * - `crasher`: crashes right after votes, slow fsyncs, torn writes;
 * - `calm`: no faults at all.
 */
export type Profile = 'mixed' | 'leader-hunter' | 'disruptor' | 'crasher' | 'calm';

export function drawParams(rng: SimRng): WorldParams {
  const profile = rng.weighted<Profile>({ mixed: 45, 'leader-hunter': 25, disruptor: 20, crasher: 7, calm: 3 });
  const p: WorldParams = { profile, ...drawMixed(rng, profile === 'calm') };
  switch (profile) {
    case 'mixed':
    case 'calm':
      return p;
    case 'leader-hunter':
      return {
        ...p,
        nodes: rng.pick([3, 3, 5]),
        config: { ...p.config, maxEntriesPerAppend: rng.pick([1, 2]), maxInflightAppends: 1 },
        isolateLeaderProb: 0.5,
        crashAfterFirstCommitProb: rng.pick([0, 0.3]),
        partitionEveryMs: 1000,
        crashEveryMs: Infinity,
        restartMaxMs: 500,
        membershipEveryMs: Infinity,
        clientThinkMs: 10,
        clientPauseProb: 0,
        readFraction: 0.3,
        safetyMs: rng.int(4000, 8000),
      };
    case 'disruptor':
      return {
        ...p,
        nodes: rng.pick([3, 4, 5]),
        extremeClocks: true,
        clockSpread: p.config.clockRateBound,
        isolateOnLeaseRenewProb: rng.pick([0, 0.05]),
        partitionEveryMs: rng.pick([500, 1000, 2500]),
        crashEveryMs: Infinity,
        leaderChurnEveryMs: Infinity,
        lossProb: 0,
        clientThinkMs: 500,
        clientPauseProb: 0.3,
        readFraction: 0.8,
        safetyMs: rng.int(4000, 8000),
      };
    case 'crasher':
      return {
        ...p,
        crashEveryMs: rng.pick([300, 1000]),
        crashAfterVoteProb: 0.5,
        crashDuringSyncProb: 0.03,
        restartMaxMs: rng.pick([5, 100, 600]),
        fsyncSlowProb: 0.2,
        readyBatchMs: rng.pick([2, 5]),
        clientThinkMs: 5,
      };
  }
}

function drawMixed(rng: SimRng, calm: boolean): Omit<WorldParams, 'profile'> {
  const nodes = rng.pick([1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7, 8, 9]);
  const config = drawConfig(rng);
  const rho = config.clockRateBound;
  const on = (p: number): boolean => !calm && rng.chance(p);
  const delayMaxMs = rng.pick([1, 2, 5, 10, 20, 40]);
  const fsyncMaxMs = rng.pick([0.5, 2, 5, 10, 30]);
  return {
    nodes,
    config,
    clockSpread: rng.chance(0.2) ? 0 : rho * rng.float(0.5, 1),
    extremeClocks: rng.chance(0.4),
    delayMinMs: rng.float(0.05, 1),
    delayMaxMs,
    delaySpikeProb: on(0.4) ? rng.float(0.001, 0.05) : 0,
    delaySpikeMs: rng.pick([50, 200, 800]),
    lossProb: on(0.5) ? rng.pick([0.01, 0.05, 0.2, 0.4]) : 0,
    dupProb: on(0.4) ? rng.pick([0.01, 0.05, 0.2]) : 0,
    partitionEveryMs: on(0.6) ? rng.pick([150, 500, 1000, 2500]) : Infinity,
    crashEveryMs: on(0.6) ? rng.pick([150, 500, 1500, 4000]) : Infinity,
    restartMaxMs: rng.pick([5, 100, 600, 2000]),
    crashAfterVoteProb: on(0.3) ? rng.pick([0.1, 0.3, 0.7]) : 0,
    crashAfterElectionProb: on(0.2) ? rng.pick([0.1, 0.3, 0.6]) : 0,
    crashDuringSyncProb: on(0.2) ? rng.pick([0.01, 0.03]) : 0,
    crashAfterFirstCommitProb: on(0.2) ? rng.pick([0.2, 0.5]) : 0,
    isolateLeaderProb: on(0.2) ? rng.pick([0.2, 0.5]) : 0,
    isolateOnLeaseRenewProb: on(0.1) ? 0.05 : 0,
    crashLeaderProb: rng.pick([0, 0.3, 0.7]),
    leaderChurnEveryMs: on(0.2) ? rng.pick([100, 300, 1000]) : Infinity,
    rebootProb: rng.float(0, 0.5),
    fsyncMinMs: fsyncMaxMs * rng.float(0, 0.5),
    fsyncMaxMs,
    fsyncSlowProb: on(0.3) ? rng.float(0.01, 0.2) : 0,
    fsyncSlowMs: rng.pick([20, 100, 400]),
    timerLateMaxMs: rng.pick([0, 1, 5, 20]),
    readyBatchMs: rng.pick([0, 0, 0.5, 2, 5]),
    tickOnDeliver: rng.chance(0.5),
    applyEarly: rng.chance(0.5),
    compactEvery: rng.pick([3, 10, 30, 100]),
    membershipEveryMs: on(0.5) ? rng.pick([200, 600, 1500]) : Infinity,
    removeLeaderProb: rng.float(0, 0.5),
    clients: rng.int(1, 4),
    keys: rng.int(1, 4),
    clientThinkMs: rng.pick([5, 20, 100, 500]),
    clientPauseProb: rng.pick([0, 0.1, 0.3]),
    clientTimeoutMs: rng.pick([300, 1000, 3000]),
    readFraction: rng.chance(0.1) ? 1 : rng.float(0.2, 0.9),
    safetyMs: rng.int(2000, 6000),
  };
}

/**
 * Mostly the default (`lan`) profile; sometimes `fast`; sometimes the leader
 * lease stretched to the largest value validation allows, where a lease bug
 * shows first; sometimes appends of one or two entries, so that a follower
 * can hold an old-term entry without the new leader's noop after it.
 */
function drawConfig(rng: SimRng): RaftConfig {
  let c = rng.chance(0.25) ? raftProfiles.fast : defaultRaftConfig;
  if (rng.chance(0.3)) {
    const rho = c.clockRateBound;
    c = { ...c, leaderLeaseMs: Math.floor((c.electionTimeoutMinMs * (1 - rho)) / (1 + rho)) };
  }
  if (rng.chance(0.2)) c = { ...c, maxEntriesPerAppend: rng.pick([1, 2]), maxInflightAppends: rng.pick([1, 2, 8]) };
  return c;
}

/** One line for the head of a trace. */
export function describeParams(p: WorldParams): string {
  const c = p.config;
  return [
    `profile=${p.profile} nodes=${p.nodes}`,
    `h=${c.heartbeatIntervalMs} E=${c.electionTimeoutMinMs} LL=${c.leaderLeaseMs}`,
    `delay=${p.delayMinMs.toFixed(2)}..${p.delayMaxMs} loss=${p.lossProb} dup=${p.dupProb}`,
    `partitionEvery=${p.partitionEveryMs} crashEvery=${p.crashEveryMs} crashAfterVote=${p.crashAfterVoteProb}`,
    `fsync=${p.fsyncMinMs.toFixed(2)}..${p.fsyncMaxMs} membershipEvery=${p.membershipEveryMs} applyEarly=${p.applyEarly}`,
    `maxAppend=${c.maxEntriesPerAppend} inflight=${c.maxInflightAppends}`,
    `clients=${p.clients} keys=${p.keys} safety=${p.safetyMs}ms`,
  ].join(' ');
}
