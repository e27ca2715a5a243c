// What the agent runtime uses to reach its peers, and the SSH implementation
// of it. Each node dials every peer twice (a control link and a bulk link)
// and receives on its own server what peers dial to it; a reply therefore
// travels on the replier's own outbound link. Messages may be dropped
// (link down, queue full); Raft retransmits, so the transport never retries.
//
// Large bulk messages (snapshots) are encoded and decoded in one worker
// thread per transport, started on first use and stopped by close(), so
// that they never hold the event loop (and with it heartbeats) for long.

import type { PublicKey } from 'ssh2';
import type { NodeId } from '../consensus/types.js';
import { TransportError } from './errors.js';
import type { ProblemHandler } from './errors.js';
import { BULK_LIMITS, CONTROL_LIMITS } from './framed-channel.js';
import type { FramedChannelLimits } from './framed-channel.js';
import type { BackoffPolicy } from './backoff.js';
import { OffloadCodec } from './offload-codec.js';
import { PeerLink } from './peer-link.js';
import { indexClientKeys, sameAddress, validatePeerTable } from './peer-table.js';
import type { PeerAddress } from './peer-table.js';
import type { LinkStats } from './peer-link.js';
import { SshServer } from './server.js';
import type { AuthorizedKeyLookup, ExecHandler, Identity, Lane } from './server.js';

export type { Lane } from './server.js';
export type { PeerAddress, SshdTunnel } from './peer-table.js';

/**
 * `from` is the peer the sending connection authenticated as (not a field of
 * the message): a receiver should drop a message whose own `from` differs.
 */
export type MessageHandler = (message: object, from: NodeId, lane: Lane) => void;

export interface Transport {
  /**
   * Sends `message` to peer `to` on a lane: `control` for consensus and lease
   * traffic, `bulk` for snapshots. Returns false if it was dropped (unknown
   * peer, link down, queue full). Throws E_FRAME_TOO_LARGE if it can never fit a frame.
   */
  send(to: NodeId, message: object, lane: Lane): boolean;
  onMessage(handler: MessageHandler): void;
  close(): Promise<void>;
}

export interface SshTransportOptions {
  nodeId: NodeId;
  listenHost: string;
  /** 0 picks a free port (read it back from `port`). */
  listenPort: number;
  /**
   * Also listen on this Unix socket (e.g. `<state-dir>/peer.sock`, made mode
   * 0600), for peers that reach this node through its sshd (their table
   * entry for us has `tunnel.socketPath` = this path).
   */
  peerSocketPath?: string;
  /** Local address outgoing links dial from (`--source-address`); default: the OS picks. */
  sourceAddress?: string;
  /**
   * This node's host key and client key, OpenSSH private key text (may be
   * the same key). The client key also logs in to peers' sshd in tunnel
   * mode: the admin adds its public key to the authorized_keys of each
   * such peer's `tunnel.sshUser`.
   */
  hostPrivateKey: string;
  clientPrivateKey: string;
  peers: readonly PeerAddress[];
  /** Identities for keys that are not peers' (admins); consulted after the peer table. */
  authorizeOther?: AuthorizedKeyLookup;
  onExec?: ExecHandler;
  onProblem?: ProblemHandler;
  /** Called when a link to a peer comes up or goes down. */
  onLinkChange?: (peer: NodeId, lane: Lane, up: boolean) => void;
  limits?: Partial<Record<Lane, FramedChannelLimits>>;
  backoff?: BackoffPolicy;
  readyTimeoutMs?: number;
  /** Uniform [0, 1) for backoff jitter. */
  random?: () => number;
}

interface PeerLinks {
  address: PeerAddress;
  control: PeerLink;
  bulk: PeerLink;
}

export class SshTransport implements Transport {
  private readonly handlers: MessageHandler[] = [];
  private readonly links = new Map<NodeId, PeerLinks>();
  /** Base64 of each peer's client key blob → peer id, for the server's login check. */
  private peerByKey = new Map<string, NodeId>();
  private server: SshServer | null = null;
  private readonly codec = new OffloadCodec();
  private closed = false;

  private constructor(private readonly options: SshTransportOptions) {}

  /** Throws E_PEER_INVALID, before listening, if the peer table is unusable. */
  static async start(options: SshTransportOptions): Promise<SshTransport> {
    checkPeerTable(options.peers);
    const transport = new SshTransport(options);
    transport.server = await SshServer.start({
      host: options.listenHost,
      port: options.listenPort,
      ...(options.peerSocketPath === undefined ? {} : { socketPath: options.peerSocketPath }),
      hostKey: options.hostPrivateKey,
      codec: transport.codec,
      authorizedKeys: (key) => transport.identify(key),
      onPeerMessage: (peer, lane, message) => {
        for (const handler of transport.handlers) handler(message, peer, lane);
      },
      ...(options.onExec ? { onExec: options.onExec } : {}),
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    transport.updatePeers(options.peers);
    return transport;
  }

  /** The port the server listens on. */
  get port(): number {
    if (!this.server) throw new Error('SshTransport: not started');
    return this.server.port;
  }

  send(to: NodeId, message: object, lane: Lane): boolean {
    const links = this.links.get(to);
    if (!links) return false;
    return links[lane].send(message);
  }

  onMessage(handler: MessageHandler): void {
    this.handlers.push(handler);
  }

  /**
   * Replaces the peer table: links to removed or changed peers are closed
   * (and new ones dialled), and inbound connections whose key is no longer
   * authorised are dropped. Throws E_PEER_INVALID, changing nothing, if the
   * table is unusable.
   */
  updatePeers(peers: readonly PeerAddress[]): void {
    checkPeerTable(peers);
    if (this.closed) return;
    const wanted = new Map(peers.filter((peer) => peer.id !== this.options.nodeId).map((peer) => [peer.id, peer]));
    for (const [id, links] of this.links) {
      const next = wanted.get(id);
      if (next && sameAddress(next, links.address)) continue;
      void links.control.close();
      void links.bulk.close();
      this.links.delete(id);
    }
    for (const [id, address] of wanted) {
      if (this.links.has(id)) continue;
      const links: PeerLinks = { address, control: this.makeLink(address, 'control'), bulk: this.makeLink(address, 'bulk') };
      this.links.set(id, links);
      links.control.start();
      links.bulk.start();
    }
    this.peerByKey = indexClientKeys([...wanted.values()]);
    this.server?.reauthorize();
  }

  /** True while the worker thread for large bulk messages runs (started on first use, stopped by close()). */
  get codecRunning(): boolean {
    return this.codec.running;
  }

  /** Per peer, per lane: up or not, and message counters. */
  stats(): Record<NodeId, Record<Lane, LinkStats>> {
    const out: Record<NodeId, Record<Lane, LinkStats>> = {};
    for (const [id, links] of this.links) out[id] = { control: links.control.stats(), bulk: links.bulk.stats() };
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const links of this.links.values()) closing.push(links.control.close(), links.bulk.close());
    this.links.clear();
    if (this.server) closing.push(this.server.close());
    await Promise.all(closing);
    await this.codec.close();
  }

  private identify(key: PublicKey): Identity | null {
    const peer = this.peerByKey.get(key.data.toString('base64'));
    if (peer !== undefined) return { kind: 'peer', nodeId: peer };
    return this.options.authorizeOther?.(key) ?? null;
  }

  private makeLink(address: PeerAddress, lane: Lane): PeerLink {
    const { options } = this;
    return new PeerLink({
      peer: address.id,
      host: address.host,
      port: address.port,
      hostPublicKey: address.hostPublicKey,
      clientPrivateKey: options.clientPrivateKey,
      ...(address.tunnel ? { tunnel: address.tunnel } : {}),
      codec: this.codec,
      username: options.nodeId,
      lane,
      limits: options.limits?.[lane] ?? (lane === 'bulk' ? BULK_LIMITS : CONTROL_LIMITS),
      ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
      onUp: () => options.onLinkChange?.(address.id, lane, true),
      onDown: () => options.onLinkChange?.(address.id, lane, false),
    });
  }
}

function checkPeerTable(peers: readonly PeerAddress[]): void {
  const problems = validatePeerTable(peers);
  if (problems.length > 0) throw new TransportError('E_PEER_INVALID', problems.map((p) => p.message).join('; '));
}
