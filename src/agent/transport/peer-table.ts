// The peer table the transport dials and authorises: where each peer
// listens, its pinned host key, and the key it logs in with.

import type { NodeId } from '../consensus/types.js';
import { TransportError } from './errors.js';
import { publicKeyBlob } from './keys.js';

export interface PeerAddress {
  id: NodeId;
  host: string;
  port: number;
  /** The peer's host public key line, pinned when dialling it. */
  hostPublicKey: string;
  /** The public key the peer logs in with when it dials us. */
  clientPublicKey: string;
}

export interface PeerTableProblem {
  code: 'E_KEY_INVALID' | 'E_PEER_INVALID';
  peer: NodeId;
  message: string;
}

/** Every problem in a peer table, not only the first. An empty list means the table is usable. */
export function validatePeerTable(peers: readonly PeerAddress[]): PeerTableProblem[] {
  const problems: PeerTableProblem[] = [];
  const ids = new Set<NodeId>();
  const clientKeys = new Map<string, NodeId>();
  for (const peer of peers) {
    if (peer.id === '') problems.push({ code: 'E_PEER_INVALID', peer: peer.id, message: 'empty peer id' });
    if (ids.has(peer.id)) problems.push({ code: 'E_PEER_INVALID', peer: peer.id, message: `peer ${peer.id} listed twice` });
    ids.add(peer.id);
    if (peer.host === '') problems.push({ code: 'E_PEER_INVALID', peer: peer.id, message: `peer ${peer.id} has no host` });
    if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) {
      problems.push({ code: 'E_PEER_INVALID', peer: peer.id, message: `peer ${peer.id} has port ${peer.port}, expected 1-65535` });
    }
    if (!blobOrNull(peer.hostPublicKey)) {
      problems.push({ code: 'E_KEY_INVALID', peer: peer.id, message: `peer ${peer.id}: host public key does not parse` });
    }
    const client = blobOrNull(peer.clientPublicKey);
    if (!client) {
      problems.push({ code: 'E_KEY_INVALID', peer: peer.id, message: `peer ${peer.id}: client public key does not parse` });
      continue;
    }
    const owner = clientKeys.get(client);
    if (owner !== undefined) {
      problems.push({ code: 'E_PEER_INVALID', peer: peer.id, message: `peers ${owner} and ${peer.id} share a client key` });
    }
    clientKeys.set(client, peer.id);
  }
  return problems;
}

/** Base64 of each peer's client key blob → peer id, for the server's login check. */
export function indexClientKeys(peers: readonly PeerAddress[]): Map<string, NodeId> {
  return new Map(peers.map((peer) => [publicKeyBlob(peer.clientPublicKey).toString('base64'), peer.id]));
}

export function sameAddress(a: PeerAddress, b: PeerAddress): boolean {
  return a.host === b.host && a.port === b.port && a.hostPublicKey === b.hostPublicKey && a.clientPublicKey === b.clientPublicKey;
}

function blobOrNull(publicKey: string): string | null {
  try {
    return publicKeyBlob(publicKey).toString('base64');
  } catch (err) {
    if (err instanceof TransportError) return null;
    throw err;
  }
}
