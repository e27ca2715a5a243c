// The agent's embedded SSH server. Logins by public key only, and only for
// keys the caller's lookup knows. ssh2 does not check the login signature
// itself: we verify it here, so knowing an authorised public key is not
// enough to get in (DEPENDENCIES.md, "ssh2: two traps").
//
// What an authenticated client may open: the `fcm-peer` / `fcm-bulk`
// subsystems (peers only), and `exec` (through the caller's hook). Every
// other channel or request is refused by ssh2 for want of a listener.

import { createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, PublicKey, ServerChannel, Session } from 'ssh2';
import type { NodeId } from '../consensus/types.js';
import type { ProblemHandler, TransportErrorCode } from './errors.js';
import { BULK_LIMITS, CONTROL_LIMITS, FramedChannel } from './framed-channel.js';
import type { FramedChannelLimits } from './framed-channel.js';

const { Server: SshServerImpl, utils } = ssh2;

export type Identity =
  | { kind: 'peer'; nodeId: NodeId }
  | { kind: 'admin'; name: string; role: string };

/** Maps an offered key (algorithm + SSH wire blob) to who it belongs to; null when no one is authorised with it. */
export type AuthorizedKeyLookup = (key: PublicKey) => Identity | null;

export type Lane = 'control' | 'bulk';

export const LANE_SUBSYSTEM: Record<Lane, string> = { control: 'fcm-peer', bulk: 'fcm-bulk' };

/** A message from an authenticated peer on one of its inbound lanes. */
export type PeerMessageHandler = (peer: NodeId, lane: Lane, message: object) => void;

/** Runs a command for an authenticated client; the hook writes to the channel and ends it with `channel.exit(code)` + `end()`. */
export type ExecHandler = (identity: Identity, command: string, channel: ServerChannel) => void;

export interface SshServerOptions {
  /** Address to listen on, e.g. `0.0.0.0` or `127.0.0.1`. */
  host: string;
  /** TCP port; 0 picks a free one (read it back from `port`). */
  port: number;
  /** The node's host key, OpenSSH private key text. */
  hostKey: string;
  authorizedKeys: AuthorizedKeyLookup;
  onPeerMessage?: PeerMessageHandler;
  onExec?: ExecHandler;
  onProblem?: ProblemHandler;
  /** A connection not logged in after this long is dropped, ms. Default 10000. */
  loginGraceMs?: number;
  /** Failed login attempts allowed per connection before it is dropped. Default 6, as OpenSSH's MaxAuthTries. */
  maxAuthTries?: number;
  /** SSH keepalive towards clients, ms between probes; a dead client is dropped after 3 unanswered ones. Default 5000. */
  keepaliveIntervalMs?: number;
  limits?: Partial<Record<Lane, FramedChannelLimits>>;
}

interface LiveConnection {
  connection: Connection;
  loginGrace: NodeJS.Timeout;
  identity: Identity | null;
  /** The key the client logged in with, re-checked by `reauthorize()`. */
  key: PublicKey | null;
}

export class SshServer {
  private readonly connections = new Set<LiveConnection>();
  /** Login deadlines of sockets ssh2 has not announced yet (no SSH header seen), by `ip:port`. */
  private readonly unannounced = new Map<string, NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly options: SshServerOptions,
    private readonly listener: NetServer,
  ) {}

  static async start(options: SshServerOptions): Promise<SshServer> {
    const ssh = new SshServerImpl({
      hostKeys: [options.hostKey],
      keepaliveInterval: options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: 3,
    });
    // Our own listener, so that every accepted socket gets TCP_NODELAY before
    // the handshake, then is handed to ssh2.
    const listener = createServer();
    const server = new SshServer(options, listener);
    ssh.on('connection', (connection, info) => server.accept(connection, `${info.ip}:${info.port}`));
    ssh.on('error', () => { /* per-socket errors are handled on the connection */ });
    listener.on('connection', (socket) => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      socket.on('error', () => { /* reported through the ssh2 connection or its close */ });
      server.sockets.add(socket);
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      const loginGrace = setTimeout(() => {
        server.report('E_LOGIN_TIMEOUT', 'no login within the grace period', remote);
        socket.destroy();
      }, options.loginGraceMs ?? 10_000);
      server.unannounced.set(remote, loginGrace);
      socket.once('close', () => {
        clearTimeout(loginGrace);
        server.sockets.delete(socket);
        server.unannounced.delete(remote);
      });
      ssh.injectSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port, options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** The bound TCP port. */
  get port(): number {
    const address = this.listener.address();
    if (address === null || typeof address === 'string') throw new Error('SshServer: not listening on TCP');
    return address.port;
  }

  /** Identities of the clients logged in now. */
  get clients(): Identity[] {
    return [...this.connections].flatMap((live) => (live.identity ? [live.identity] : []));
  }

  /**
   * Re-checks every logged-in connection against the current lookup and
   * drops those whose key is no longer authorised for the same identity
   * (a peer removed, an admin key revoked).
   */
  reauthorize(): void {
    for (const live of this.connections) {
      if (!live.identity || !live.key) continue;
      const now = this.options.authorizedKeys(live.key);
      if (!now || !sameIdentity(now, live.identity)) live.connection.end();
    }
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const live of this.connections) live.connection.end();
    const gone = [...this.sockets].map((socket) => new Promise<void>((resolve) => {
      if (socket.destroyed) {
        resolve();
        return;
      }
      socket.once('close', () => resolve());
      // Give the disconnect message a moment to leave, then cut.
      setTimeout(() => socket.destroy(), 100).unref();
    }));
    await Promise.all([closed, ...gone]);
  }

  private accept(connection: Connection, remote: string): void {
    const loginGrace = this.unannounced.get(remote);
    this.unannounced.delete(remote);
    if (!loginGrace) {
      connection.end();
      return;
    }
    const live: LiveConnection = { connection, loginGrace, identity: null, key: null };
    this.connections.add(live);
    let failedTries = 0;
    const refuse = (ctx: AuthContext, code: TransportErrorCode, message: string): void => {
      this.report(code, message, remote);
      ctx.reject(['publickey']);
      if (++failedTries >= (this.options.maxAuthTries ?? 6)) connection.end();
    };
    connection.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        refuse(ctx, 'E_AUTH_METHOD', `login method ${ctx.method} refused: public key only`);
        return;
      }
      const identity = this.options.authorizedKeys(ctx.key);
      if (!identity) {
        refuse(ctx, 'E_UNKNOWN_KEY', `key ${ctx.key.algo} is not authorised`);
        return;
      }
      if (!ctx.signature) {
        // The client only asks whether this key would do; it must still prove it holds the private half.
        ctx.accept();
        return;
      }
      if (!verifySignature(ctx.key, ctx.blob, ctx.signature, ctx.hashAlgo)) {
        refuse(ctx, 'E_BAD_SIGNATURE', `signature by key of ${describe(identity)} does not verify`);
        return;
      }
      live.identity = identity;
      live.key = { algo: ctx.key.algo, data: Buffer.from(ctx.key.data) };
      ctx.accept();
    });
    connection.on('ready', () => {
      clearTimeout(live.loginGrace);
      connection.on('session', (acceptSession) => this.serveSession(live, acceptSession(), remote));
    });
    connection.on('error', () => { /* the socket closes next; nothing to keep */ });
    connection.on('close', () => this.connections.delete(live));
  }

  private serveSession(live: LiveConnection, session: Session, remote: string): void {
    const identity = live.identity;
    if (!identity) return;
    session.on('subsystem', (accept, reject, info) => {
      const lane = laneOf(info.name);
      const onPeerMessage = this.options.onPeerMessage;
      if (!lane || identity.kind !== 'peer' || !onPeerMessage) {
        reject();
        return;
      }
      const limits = this.options.limits?.[lane] ?? (lane === 'bulk' ? BULK_LIMITS : CONTROL_LIMITS);
      new FramedChannel(accept(), limits, {
        onMessage: (message) => onPeerMessage(identity.nodeId, lane, message),
        onClose: (error) => {
          if (!error) return;
          // A peer that sends a broken frame is confused or hostile: drop its whole connection; it redials.
          this.report(error.code, `${error.message}; closing the connection`, remote, identity.nodeId);
          live.connection.end();
        },
      });
    });
    session.on('exec', (accept, reject, info) => {
      const onExec = this.options.onExec;
      if (!onExec) {
        reject();
        return;
      }
      onExec(identity, info.command, accept());
    });
  }

  private report(code: TransportErrorCode, message: string, remote: string, peer?: NodeId): void {
    this.options.onProblem?.({ code, message, remote, ...(peer === undefined ? {} : { peer }) });
  }
}

/** True when `signature` over `blob` was made by the private half of `key`. */
function verifySignature(key: PublicKey, blob: Buffer | undefined, signature: Buffer, hashAlgo: string | undefined): boolean {
  if (!blob) return false;
  const parsed = utils.parseKey(key.data);
  if (parsed instanceof Error) return false;
  const publicKey = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!publicKey) return false;
  return publicKey.verify(blob, signature, hashAlgo) === true;
}

function laneOf(subsystem: string): Lane | null {
  if (subsystem === LANE_SUBSYSTEM.control) return 'control';
  if (subsystem === LANE_SUBSYSTEM.bulk) return 'bulk';
  return null;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  if (a.kind === 'peer' && b.kind === 'peer') return a.nodeId === b.nodeId;
  if (a.kind === 'admin' && b.kind === 'admin') return a.name === b.name && a.role === b.role;
  return false;
}

function describe(identity: Identity): string {
  return identity.kind === 'peer' ? `peer ${identity.nodeId}` : `admin ${identity.name}`;
}
