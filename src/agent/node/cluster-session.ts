// What exists while this node is in a cluster: the durable log store, the
// consensus runtime with the cluster database as its state machine, and the
// timing taken from the database's properties at start.
import { join } from 'node:path';
import { ClusterDatabase } from '../db/database.js';
import { ConsensusRuntime } from '../runtime/consensus-runtime.js';
import { DatabaseStateMachine } from '../runtime/database-state-machine.js';
import { LogStore } from '../store/log-store.js';
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
  if (recovery.corruptRecords.length > 0 || restored.logCorrupt) {
    log.error('the consensus log is corrupt inside acknowledged entries: this node will not vote until repaired', { corrupt: recovery.corruptRecords });
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
