// Repair of a node whose consensus log is corrupt inside acknowledged
// entries (the store opens with `logCorrupt`): such a node refuses to vote
// and its store refuses writes, so its agent stops at the first save.
//
// What is safe: the node may have acknowledged entries that its damaged log
// no longer holds, so it must never again count as its old self. The repair
// therefore does what etcd asks of an operator for a damaged member, in one
// step on the node (its agent stopped): the log directory is moved aside
// (kept for a look, never deleted), the node leaves its cluster record and
// takes a new incarnation, exactly as after a clean leave. The cluster then
// evicts the old member and adds the node again, as a learner that catches
// up from a snapshot before it votes.
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory } from '../store/fs-durable.js';
import { LogStore, describeCorruptRecord } from '../store/log-store.js';
import { AgentError } from './agent-error.js';
import { loadClusterRecord, removeClusterRecord } from './cluster-file.js';
import { RAFT_DIR } from './cluster-session.js';
import { IDENTITY_FILE, loadOrCreateIdentity, renewIncarnation } from './identity.js';
import { StateDirLock } from './state-lock.js';

export interface LogCheck {
  /** The log has damage inside acknowledged entries (or its hard state is lost): the node cannot take part. */
  corrupt: boolean;
  /** What the store found, one line each. */
  problems: string[];
}

export interface RepairResult {
  node: string;
  /** The cluster the node was in, if any. */
  cluster: string | null;
  logWasCorrupt: boolean;
  problems: string[];
  /** Where the damaged log now is. */
  keptAs: string;
}

/** Opens the log of `stateDir` as the agent would (a torn tail is cut, as at every start) and says whether it is corrupt. */
export async function checkLog(stateDir: string): Promise<LogCheck> {
  const { store, restored, recovery } = await LogStore.open(join(stateDir, RAFT_DIR));
  await store.close();
  const problems = [
    ...recovery.corruptRecords.map(describeCorruptRecord),
    ...recovery.snapshotsRefused.map((s) => `${s.file}: ${s.reason}`),
    ...recovery.hardStateRefused.map((h) => `hard state slot at byte ${h.offset}: ${h.reason}`),
  ];
  return { corrupt: restored.logCorrupt, problems };
}

/**
 * Repairs the state directory of a stopped agent (E_STATE_DIR_LOCKED while
 * one runs). Refuses with E_REFUSED when the log is sound, unless `force`.
 */
export async function repairNodeState(stateDir: string, force: boolean, now: Date = new Date()): Promise<RepairResult> {
  // Nothing is created where no agent has run: the lock and the identity would be.
  if (!existsSync(join(stateDir, IDENTITY_FILE))) {
    throw new AgentError('E_NOT_FOUND', `no node agent has run in ${stateDir}`, 'give the --state-dir of the node to repair');
  }
  const lock = await StateDirLock.acquire(stateDir);
  try {
    const record = await loadClusterRecord(stateDir);
    const { identity } = await loadOrCreateIdentity(stateDir);
    const check = await checkLog(stateDir);
    if (!check.corrupt && !force) {
      throw new AgentError('E_REFUSED', `the consensus log in ${stateDir} is sound: nothing to repair`, 'to make this node leave its cluster anyway, pass --force');
    }
    const keptAs = join(stateDir, `${RAFT_DIR}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`);
    await rename(join(stateDir, RAFT_DIR), keptAs);
    await fsyncDirectory(stateDir);
    await removeClusterRecord(stateDir);
    await renewIncarnation(stateDir, identity);
    return { node: identity.name, cluster: record?.clusterName ?? null, logWasCorrupt: check.corrupt, problems: check.problems, keptAs };
  } finally {
    await lock.release();
  }
}
