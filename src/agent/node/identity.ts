// Who this node is: made on first start in the state directory, loaded
// afterwards, never silently replaced (the cluster database pins the key and
// the incarnation, so a regenerated one would be refused everywhere).
//
//   <state-dir>/node_key       ed25519, OpenSSH format, mode 0600: the host
//                              key and the client key (one key for both)
//   <state-dir>/node_key.pub
//   <state-dir>/identity.json  {nodeId, name, incarnation, createdAt}
import { randomBytes, randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { validateName } from '../db/names.js';
import { loadNodeKey, loadOrCreateNodeKey } from '../transport/keys.js';
import type { NodeKeyPair } from '../transport/keys.js';
import { TransportError } from '../transport/errors.js';
import { AgentError } from './agent-error.js';
import { isObject, readJsonFile, writeJsonDurably } from './state-files.js';

export const KEY_FILE = 'node_key';
export const IDENTITY_FILE = 'identity.json';

export interface IdentityRecord {
  /** Consensus member id: 'n' + 10 hex digits, random, never reused. */
  nodeId: string;
  /** Name people use for this node. */
  name: string;
  /** Identity of this state directory's contents; a new one after `cluster destroy`. */
  incarnation: string;
  /** Wall-clock time of first start (ISO 8601), for people. */
  createdAt: string;
}

export interface NodeIdentity extends IdentityRecord {
  keys: NodeKeyPair;
}

/**
 * Loads the identity of `stateDir`, or makes it on first start with
 * `wantedName` (default: the host name). The state directory must exist.
 * Throws E_CORRUPT_STATE, changing nothing, when what is there is damaged.
 */
export async function loadOrCreateIdentity(stateDir: string, wantedName?: string): Promise<{ identity: NodeIdentity; created: boolean }> {
  const path = join(stateDir, IDENTITY_FILE);
  const stored = await readJsonFile(path);
  if (stored !== null) {
    const record = checkRecord(stored, path);
    const keys = await loadKey(stateDir);
    if (!keys) throw corruptState(`${join(stateDir, KEY_FILE)} is missing, but ${path} says this node exists`);
    return { identity: { ...record, keys }, created: false };
  }
  const name = wantedName ?? defaultName();
  const nameProblem = validateName(name, 'node');
  if (nameProblem) throw new AgentError('E_INVALID_NAME', nameProblem.message, nameProblem.hint ?? 'give --name NAME');
  const nodeId = `n${randomBytes(5).toString('hex')}`;
  // A key left by a start that crashed before identity.json was written is reused, not replaced.
  let keys: NodeKeyPair;
  try {
    keys = await loadOrCreateNodeKey(stateDir, KEY_FILE, `fcm-${name}`);
  } catch (err) {
    throw asCorrupt(err);
  }
  const record: IdentityRecord = { nodeId, name, incarnation: randomUUID(), createdAt: new Date().toISOString() };
  await writeJsonDurably(path, record);
  return { identity: { ...record, keys }, created: true };
}

/** After leaving a cluster: a new incarnation, so that this empty state can never vote as its old self. */
export async function renewIncarnation(stateDir: string, identity: NodeIdentity): Promise<NodeIdentity> {
  const record: IdentityRecord = { nodeId: identity.nodeId, name: identity.name, incarnation: randomUUID(), createdAt: identity.createdAt };
  await writeJsonDurably(join(stateDir, IDENTITY_FILE), record);
  return { ...record, keys: identity.keys };
}

async function loadKey(stateDir: string): Promise<NodeKeyPair | null> {
  const path = join(stateDir, KEY_FILE);
  try {
    await access(path);
  } catch {
    return null;
  }
  try {
    return await loadNodeKey(path);
  } catch (err) {
    throw asCorrupt(err);
  }
}

function asCorrupt(err: unknown): Error {
  if (err instanceof TransportError && err.code === 'E_KEY_INVALID') return corruptState(`the node key is damaged: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

function corruptState(message: string): AgentError {
  return new AgentError('E_CORRUPT_STATE', message, 'restore the state directory from a backup, or move it aside to start this node afresh (then remove and re-add the node)');
}

function checkRecord(value: unknown, path: string): IdentityRecord {
  const problems: string[] = [];
  if (!isObject(value)) throw corruptState(`${path} is not a JSON object`);
  const { nodeId, name, incarnation, createdAt } = value;
  if (typeof nodeId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId)) problems.push('nodeId is missing or malformed');
  if (validateName(name, 'node') !== null) problems.push('name is missing or not a valid node name');
  if (typeof incarnation !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(incarnation)) problems.push('incarnation is missing or malformed');
  if (typeof createdAt !== 'string') problems.push('createdAt is missing');
  if (problems.length > 0) throw corruptState(`${path}: ${problems.join('; ')}`);
  return { nodeId: nodeId as string, name: name as string, incarnation: incarnation as string, createdAt: createdAt as string };
}

/** The host name's first label, if it is a valid node name. */
function defaultName(): string {
  const label = hostname().split('.')[0] ?? '';
  return validateName(label, 'node') === null ? label : 'node';
}
