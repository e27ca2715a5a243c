// `cluster.json` in the state directory: which cluster this node belongs
// to, written when it creates or joins one and removed when it leaves.
//   bootstrap    the one-voter membership a created cluster starts from, kept
//                so that a crash before its first entry was durable redoes it
//   joinMembers  the members a joining node was told to trust; its peers until
//                the replicated database lists it
import { join } from 'node:path';
import type { Membership } from '../consensus/types.js';
import type { AgentIdentity } from '../../client/api.js';
import { AgentError } from './agent-error.js';
import { isObject, readJsonFile, removeDurably, writeJsonDurably } from './state-files.js';

export const CLUSTER_FILE = 'cluster.json';

export type JoinMember = Pick<AgentIdentity, 'nodeId' | 'name' | 'publicKey' | 'address' | 'incarnation'>;

export interface ClusterRecord {
  clusterId: string;
  clusterName: string;
  /** Wall clock (ISO 8601), for people. */
  since: string;
  bootstrap: Membership | null;
  joinMembers: JoinMember[];
}

export async function loadClusterRecord(stateDir: string): Promise<ClusterRecord | null> {
  const path = join(stateDir, CLUSTER_FILE);
  const value = await readJsonFile(path);
  if (value === null) return null;
  if (!isObject(value) || typeof value.clusterId !== 'string' || typeof value.clusterName !== 'string'
    || typeof value.since !== 'string' || !Array.isArray(value.joinMembers) || !(value.bootstrap === null || isObject(value.bootstrap))) {
    throw new AgentError('E_CORRUPT_STATE', `${path} is damaged`, 'restore it from a backup, or remove it and the raft directory to leave the cluster');
  }
  return value as unknown as ClusterRecord;
}

export function saveClusterRecord(stateDir: string, record: ClusterRecord): Promise<void> {
  return writeJsonDurably(join(stateDir, CLUSTER_FILE), record);
}

export function removeClusterRecord(stateDir: string): Promise<void> {
  return removeDurably(join(stateDir, CLUSTER_FILE));
}
