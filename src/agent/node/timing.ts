// The cluster properties (heartbeatInterval, electionTimeoutMin, nodeLease,
// ...) mapped onto the configs of the parts that keep time: the consensus
// core, node leases and the liveness view. Consensus timing is fixed when
// the runtime starts; lease and liveness timing follow property changes.
import { defaultRaftConfig } from '../consensus/config.js';
import type { RaftConfig } from '../consensus/config.js';
import type { RestoredState } from '../consensus/types.js';
import { defaultLeaseTiming } from '../core/lease-config.js';
import type { LeaseTiming } from '../core/lease-config.js';
import type { LivenessThresholds } from '../core/membership.js';
import { ClusterDatabase } from '../db/database.js';
import type { ClusterProperties } from '../db/properties.js';

export interface AgentTiming {
  raft: RaftConfig;
  lease: LeaseTiming;
  liveness: LivenessThresholds;
}

export function timingFrom(p: ClusterProperties): AgentTiming {
  const rho = p.clockRateBound;
  const raft: RaftConfig = {
    ...defaultRaftConfig,
    heartbeatIntervalMs: p.heartbeatInterval,
    electionTimeoutMinMs: p.electionTimeoutMin,
    leaderLeaseMs: p.leaderLease,
    clockRateBound: rho,
    transferTimeoutMs: p.electionTimeoutMin,
  };
  const lease: LeaseTiming = {
    heartbeatIntervalMs: p.heartbeatInterval,
    electionTimeoutMinMs: p.electionTimeoutMin,
    nodeLeaseMs: p.nodeLease,
    leaderLeaseMs: p.leaderLease,
    clockRateBound: rho,
    guardLatencyMs: p.guardLatency,
    killTimeMs: p.killTime,
    // The property is one round trip; the lease arithmetic allows for three.
    rttBudgetMs: 3 * p.rttBudget,
    // ε must cover ρ (λ + K); the default margin is kept when it does.
    settleMarginMs: Math.max(defaultLeaseTiming.settleMarginMs, Math.ceil(rho * (p.guardLatency + p.killTime))),
  };
  const liveness: LivenessThresholds = {
    heartbeatIntervalMs: p.heartbeatInterval,
    suspectAfterIntervals: 3,
    // Down after about a node lease of silence: by then its groups would be moved anyway.
    downAfterIntervals: Math.max(4, Math.ceil(p.nodeLease / p.heartbeatInterval)),
  };
  return { raft, lease, liveness };
}

/**
 * The properties in effect at the restored commit index: the consensus core
 * needs its timing before the runtime replays the log, so the committed
 * part is replayed here once into a scratch database.
 */
export function propertiesAtCommit(restored: RestoredState): ClusterProperties {
  const db = restored.snapshot ? ClusterDatabase.restore(restored.snapshot.data) : new ClusterDatabase();
  for (const entry of restored.entries) {
    if (entry.index > restored.hardState.commit) break;
    if (entry.index > db.appliedIndex) db.applyEntry(entry);
  }
  return db.getProperties();
}
