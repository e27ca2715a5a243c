// What exists while this node is in a cluster: the durable log store, the
// consensus runtime with the cluster database as its state machine, and the
// timing taken from the database's properties at start.
import { join } from 'node:path';
import { ClusterDatabase } from '../db/database.js';
import { ConsensusRuntime } from '../runtime/consensus-runtime.js';
import { DatabaseStateMachine } from '../runtime/database-state-machine.js';
import { LogStore, describeCorruptRecord } from '../store/log-store.js';
import type { RecoveryReport } from '../store/log-store.js';
import { AgentError } from './agent-error.js';
import type { ClusterRecord } from './cluster-file.js';
import type { NodeIdentity } from './identity.js';
import type { Logger } from './logger.js';
import type { ChannelEndpoint } from './peer-channels.js';
import { propertiesAtCommit, timingFrom } from './timing.js';
import type { AgentTiming } from './timing.js';

export const RAFT_DIR = 'raft';

export interface ClusterSession {
  record: ClusterRecord;
  store: LogStore;
  runtime: ConsensusRuntime;
  machine: DatabaseStateMachine;
  raftEndpoint: ChannelEndpoint;
  timing: AgentTiming;
}

export interface SessionHooks {
  /** After every apply or restore of the database. */
  onDatabaseChange: () => void;
  /** The runtime cannot go on (a failed fsync). */
  onFatal: (err: Error) => void;
}

/** Opens the log in `<stateDir>/raft` and starts the consensus runtime on it. */
export async function openSession(stateDir: string, identity: NodeIdentity, record: ClusterRecord, raftEndpoint: ChannelEndpoint, hooks: SessionHooks, log: Logger): Promise<ClusterSession> {
  const { store, restored, recovery } = await LogStore.open(join(stateDir, RAFT_DIR));
  if (recovery.tornTail) log.warn('torn log tail cut at start (a write interrupted by a crash)', { ...recovery.tornTail });
  if (restored.logCorrupt) {
    // It must not vote, and its store refuses writes; following on the part it still has would show it Up
    // and holding a lease while it falls further behind. So it does not start; repair.ts says what does.
    await raftEndpoint.close();
    await store.close();
    throw new AgentError(
      'E_LOG_CORRUPT',
      `the consensus log in ${join(stateDir, RAFT_DIR)} is corrupt inside acknowledged entries (${corruptionSummary(recovery)}): this node cannot take part until it is repaired`,
      `run fcm agent repair --state-dir ${stateDir}, then evict this node and add it again (man fcm-agent)`,
    );
  }
  try {
    const timing = timingFrom(propertiesAtCommit(restored));
    const machine = new DatabaseStateMachine(new ClusterDatabase(), hooks.onDatabaseChange);
    const runtime = new ConsensusRuntime({
      id: identity.nodeId,
      clusterId: record.clusterId,
      incarnation: identity.incarnation,
      config: timing.raft,
      store,
      restored,
      transport: raftEndpoint,
      stateMachine: machine,
      ...(record.bootstrap ? { bootstrap: record.bootstrap } : {}),
      onFatal: hooks.onFatal,
    });
    return { record, store, runtime, machine, raftEndpoint, timing };
  } catch (err) {
    await raftEndpoint.close();
    await store.close();
    throw err;
  }
}

export async function closeSession(session: ClusterSession): Promise<void> {
  await session.runtime.stop();
  await session.raftEndpoint.close();
  await session.store.close();
}

function corruptionSummary(recovery: RecoveryReport): string {
  // Without a damaged record, what made the log corrupt is a hard state (term and vote) lost from both copies.
  return recovery.corruptRecords.map(describeCorruptRecord).join('; ') || 'its hard state is lost';
}
