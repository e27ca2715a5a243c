// Counts of what a run exercised, summed over seeds for the report.
import type { ClientStats } from './clients.js';
import type { NetworkStats } from './network.js';

export interface RunStats extends NetworkStats, ClientStats {
  ticks: number;
  events: number;
  elections: number;
  crashes: number;
  restarts: number;
  reboots: number;
  /** Crashes that lost unsynced writes. */
  lostWrites: number;
  /** Crashes that kept part of a multi-entry write (the store cut a torn tail). */
  tornTails: number;
  crashesAfterVote: number;
  crashesAfterElection: number;
  crashesDuringSync: number;
  crashesAfterCommit: number;
  fsyncs: number;
  compactions: number;
  snapshotsInstalled: number;
  membershipChanges: number;
  membershipProposals: number;
  leaderRemovals: number;
  nodesAdded: number;
  simulatedMs: number;
  /** True ms from the start of the liveness phase until every key was read. */
  livenessMs: number;
  linearizabilityInconclusive: number;
  /** Runs with the resource world. */
  resourceRuns: number;
  /** Resource processes started, died by themselves, and pauses of agents, monitors, guards or nodes. */
  processStarts: number;
  processDeaths: number;
  pauses: number;
  /** Nodes cut off or muted right after (or as) a grant left for them. */
  isolations: number;
  /** True ms from the start of the liveness phase until every group ran whole on a healed node. */
  groupsConvergedMs: number;
}

export function emptyStats(): RunStats {
  return {
    ticks: 0,
    events: 0,
    elections: 0,
    crashes: 0,
    restarts: 0,
    reboots: 0,
    lostWrites: 0,
    tornTails: 0,
    crashesAfterVote: 0,
    crashesAfterElection: 0,
    crashesDuringSync: 0,
    crashesAfterCommit: 0,
    fsyncs: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    membershipChanges: 0,
    membershipProposals: 0,
    leaderRemovals: 0,
    nodesAdded: 0,
    simulatedMs: 0,
    livenessMs: 0,
    linearizabilityInconclusive: 0,
    resourceRuns: 0,
    processStarts: 0,
    processDeaths: 0,
    pauses: 0,
    isolations: 0,
    groupsConvergedMs: 0,
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    partitions: 0,
    clientOps: 0,
    writesAcked: 0,
    readsServed: 0,
    unknownOutcomes: 0,
  };
}

export function addStats(into: RunStats, from: RunStats): void {
  for (const k of Object.keys(into) as (keyof RunStats)[]) into[k] += from[k];
}
