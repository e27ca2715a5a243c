// The agent's embedded SSH server. Logins by public key only, and only for
// keys the caller's lookup knows. ssh2 does not check the login signature
// itself: we verify it here, so knowing an authorised public key is not
// enough to get in (DEPENDENCIES.md, "ssh2: two traps").
//
// What an authenticated client may open: the `fcm-peer` / `fcm-bulk`
// subsystems (peers only), and `exec` (through the caller's hook). Every
// other channel or request is refused by ssh2 for want of a listener.
//
// Besides TCP, the server may listen on a Unix socket (mode 0600) for peers
// that come through the system's sshd (OpenSSH streamlocal forwarding): its
// connections get the same SSH handshake, logins and channels.

import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect as netConnect, createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, PublicKey, ServerChannel, Session } from 'ssh2';
import type { NodeId } from '../consensus/types.js';
import { TransportError } from './errors.js';
import type { ProblemHandler, TransportErrorCode } from './errors.js';
import { BULK_LIMITS, CONTROL_LIMITS, FramedChannel } from './framed-channel.js';
import type { FramedChannelLimits } from './framed-channel.js';
import { parseOne } from './keys.js';
import type { OffloadCodec } from './offload-codec.js';

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
  /**
   * Also listen on this Unix socket path (made mode 0600; keep it in a
   * root-only directory): where the system's sshd forwards tunnelled peers.
   * A stale socket left by a dead agent is replaced; a live one is refused.
   */
  socketPath?: string;
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
  /** Worker that encodes and decodes large frames of lanes whose limits set `offloadAboveBytes`. */
  codec?: OffloadCodec;
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
  private readonly sockets = new Set<Socket>();
  private readonly listeners: NetServer[] = [];

  private constructor(
    private readonly options: SshServerOptions,
    private readonly hostKey: ParsedKey,
  ) {}

  /** Throws E_KEY_INVALID if the host key is not a private key, before listening. */
  static async start(options: SshServerOptions): Promise<SshServer> {
    const hostKey = parseOne(options.hostKey);
    if (!hostKey.isPrivateKey()) throw new TransportError('E_KEY_INVALID', 'the host key must be a private key');
    const server = new SshServer(options, hostKey);
    try {
      const tcp = server.makeListener(true);
      server.listeners.push(tcp);
      await listen(tcp, (done) => tcp.listen(options.port, options.host, done));
      if (options.socketPath !== undefined) {
        const unix = server.makeListener(false);
        server.listeners.push(unix);
        await listenUnix(unix, options.socketPath);
      }
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** The bound TCP port. */
  get port(): number {
    const address = this.listeners[0]?.address();
    if (address === null || address === undefined || typeof address === 'string') throw new Error('SshServer: not listening on TCP');
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
    const closed = this.listeners.map((listener) => new Promise<void>((resolve) => {
      if (listener.listening) listener.close(() => resolve());
      else resolve();
    }));
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
    await Promise.all([...closed, ...gone]);
  }

  /**
   * Accepted sockets are handed to ssh2, each to its own ssh2 Server object
   * (cheap: ~0.1 ms), so that its 'connection' event belongs to exactly that
   * socket: Unix sockets have no remote address to tell them apart by.
   * Every TCP socket gets TCP_NODELAY before the handshake.
   */
  private makeListener(tcp: boolean): NetServer {
    const { options } = this;
    return createServer((socket) => {
      if (tcp) {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
      }
      socket.on('error', () => { /* reported through the ssh2 connection or its close */ });
      this.sockets.add(socket);
      const remote = tcp ? `${socket.remoteAddress}:${socket.remotePort}` : `unix:${options.socketPath}`;
      const loginGrace = setTimeout(() => {
        this.report('E_LOGIN_TIMEOUT', 'no login within the grace period', remote);
        socket.destroy();
      }, options.loginGraceMs ?? 10_000);
      socket.once('close', () => {
        clearTimeout(loginGrace);
        this.sockets.delete(socket);
      });
      const ssh = new SshServerImpl({
        hostKeys: [{ key: this.hostKey }],
        keepaliveInterval: options.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: 3,
      });
      ssh.on('connection', (connection) => this.accept(connection, loginGrace, remote));
      ssh.on('error', () => { /* per-socket errors are handled on the connection */ });
      ssh.injectSocket(socket);
    });
  }

  private accept(connection: Connection, loginGrace: NodeJS.Timeout, remote: string): void {
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
      }, this.options.codec);
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

function listen(listener: NetServer, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    start(() => {
      listener.off('error', reject);
      resolve();
    });
  });
}

/** Listens on `path`, mode 0600, replacing a socket file no one answers on (left by a dead agent). */
async function listenUnix(listener: NetServer, path: string): Promise<void> {
  try {
    await listen(listener, (done) => listener.listen(path, done));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (!(await lstat(path)).isSocket()) throw new TransportError('E_SOCKET_IN_USE', `${path} exists and is not a socket`);
    if (await answers(path)) throw new TransportError('E_SOCKET_IN_USE', `${path}: another process listens on it`);
    await unlink(path);
    await listen(listener, (done) => listener.listen(path, done));
  }
  await chmod(path, 0o600);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
