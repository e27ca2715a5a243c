// The peer table the transport dials and authorises: where each peer
// listens, its pinned host key, and the key it logs in with. A peer whose
// agent port is not reachable may be dialled through its system sshd
// instead (tunnel mode).

import type { NodeId } from '../consensus/types.js';
import { TransportError } from './errors.js';
import { publicKeyBlob } from './keys.js';

export interface PeerAddress {
  id: NodeId;
  /** Where the peer's agent listens; not dialled when `tunnel` is set. */
  host: string;
  port: number;
  /** The peer's (agent's) host public key line, pinned when dialling it, tunnel or not. */
  hostPublicKey: string;
  /** The public key the peer logs in with when it dials us. */
  clientPublicKey: string;
  /** Reach the peer through its system sshd instead of its agent port. */
  tunnel?: SshdTunnel;
}

/**
 * The first hop of a tunnelled link: log in to the peer's OpenSSH sshd, then
 * ask it to forward a channel to the agent's Unix socket (OpenSSH
 * streamlocal forwarding); the agent-level SSH session runs inside it.
 */
export interface SshdTunnel {
  sshHost: string;
  sshPort: number;
  /**
   * The account we log in to sshd as, with this node's client key: the admin
   * adds our client public key to that account's authorized_keys, best as
   * `restrict,port-forwarding,command="/bin/false" ssh-ed25519 AAAA...`. The
   * account must be able to open `socketPath` (mode 0600: the agent's own
   * user, normally root), and sshd_config must allow it
   * `AllowStreamLocalForwarding local` and `AllowTcpForwarding local` (OpenSSH
   * grants streamlocal forwarding only along with TCP forwarding).
   */
  sshUser: string;
  /** sshd's host public key line (from /etc/ssh/ssh_host_*_key.pub), pinned. */
  sshHostKey: string;
  /** Absolute path of the peer agent's Unix socket (its `peerSocketPath`). */
  socketPath: string;
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
    if (peer.tunnel) problems.push(...validateTunnel(peer.id, peer.tunnel));
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
  return a.host === b.host && a.port === b.port && a.hostPublicKey === b.hostPublicKey && a.clientPublicKey === b.clientPublicKey
    && sameTunnel(a.tunnel, b.tunnel);
}

function sameTunnel(a: SshdTunnel | undefined, b: SshdTunnel | undefined): boolean {
  if (!a || !b) return a === b;
  return a.sshHost === b.sshHost && a.sshPort === b.sshPort && a.sshUser === b.sshUser && a.sshHostKey === b.sshHostKey
    && a.socketPath === b.socketPath;
}

function validateTunnel(id: NodeId, tunnel: SshdTunnel): PeerTableProblem[] {
  const problems: PeerTableProblem[] = [];
  const invalid = (message: string): void => {
    problems.push({ code: 'E_PEER_INVALID', peer: id, message: `peer ${id} tunnel: ${message}` });
  };
  if (tunnel.sshHost === '') invalid('no sshHost');
  if (!Number.isInteger(tunnel.sshPort) || tunnel.sshPort < 1 || tunnel.sshPort > 65535) {
    invalid(`sshPort ${tunnel.sshPort}, expected 1-65535`);
  }
  if (tunnel.sshUser === '') invalid('no sshUser');
  if (!tunnel.socketPath.startsWith('/')) invalid(`socketPath ${JSON.stringify(tunnel.socketPath)} is not absolute`);
  if (!blobOrNull(tunnel.sshHostKey)) {
    problems.push({ code: 'E_KEY_INVALID', peer: id, message: `peer ${id} tunnel: sshd host key does not parse` });
  }
  return problems;
}

function blobOrNull(publicKey: string): string | null {
  try {
    return publicKeyBlob(publicKey).toString('base64');
  } catch (err) {
    if (err instanceof TransportError) return null;
    throw err;
  }
}
