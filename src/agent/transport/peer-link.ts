// One outbound SSH connection to a peer carrying one lane (a subsystem
// channel of framed messages). The peer's host key is pinned: any other
// key ends the handshake. A dropped connection is redialled with capped,
// jittered exponential backoff until `close()`.
//
// Tunnel mode: the link first logs in to the peer's system sshd (its host
// key pinned too) and asks it to forward a channel to the agent's Unix
// socket; the agent-level SSH session, with the same keys and checks as a
// direct one, then runs inside that channel.
//
// A node keeps two links per peer, control and bulk, on separate TCP
// connections, so a snapshot in flight never delays a heartbeat (safety
// rule 7).

import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { NodeId } from '../consensus/types.js';
import { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { TransportError } from './errors.js';
import type { ProblemHandler, TransportErrorCode } from './errors.js';
import { FramedChannel } from './framed-channel.js';
import type { ChannelCounters, FramedChannelLimits } from './framed-channel.js';
import { publicKeyBlob } from './keys.js';
import type { OffloadCodec } from './offload-codec.js';
import type { SshdTunnel } from './peer-table.js';
import { LANE_SUBSYSTEM } from './server.js';
import type { Lane } from './server.js';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

export interface PeerLinkOptions {
  /** The peer dialled, for problem reports. */
  peer: NodeId;
  host: string;
  port: number;
  /** Local address to dial from (the agent's --source-address); default: the OS picks. */
  localAddress?: string;
  /** The peer's host public key line (`ssh-ed25519 AAAA...`); no other key is accepted. */
  hostPublicKey: string;
  /** This node's client private key (OpenSSH format); also the key for the sshd login in tunnel mode. */
  clientPrivateKey: string;
  /** Dial the peer's sshd and tunnel to its agent's Unix socket instead of dialling `host`:`port`. */
  tunnel?: SshdTunnel;
  /** Worker for large frames, when the lane's limits set `offloadAboveBytes`. */
  codec?: OffloadCodec;
  /** SSH user name sent at login; informational, the server identifies us by key. */
  username: string;
  lane: Lane;
  limits: FramedChannelLimits;
  /** TCP connect + SSH handshake + login must finish within this, ms, per SSH hop. Default 3000. */
  readyTimeoutMs?: number;
  /** SSH keepalive probe interval, ms; the link drops after 3 unanswered probes. Default 1000. */
  keepaliveIntervalMs?: number;
  backoff?: BackoffPolicy;
  /** Uniform [0, 1) for backoff jitter; injectable so tests and the simulator replay. */
  random?: () => number;
  onMessage?: (message: object) => void;
  onUp?: () => void;
  onDown?: () => void;
  onProblem?: ProblemHandler;
}

export interface LinkStats extends ChannelCounters {
  up: boolean;
  /** Successful connections (handshake + subsystem) since the link was made. */
  connects: number;
}

/** One connection attempt: its SSH clients (the sshd hop first in tunnel mode) and why it failed, if it did. */
interface Attempt {
  clients: SshClient[];
  failure: TransportError | null;
  over: boolean;
}

export class PeerLink {
  private readonly pinnedHostKey: Buffer;
  private readonly pinnedSshdKey: Buffer | null;
  private attempt: Attempt | null = null;
  private channel: FramedChannel | null = null;
  private redialTimer: NodeJS.Timeout | null = null;
  private failedAttempts = 0;
  private closing = false;
  private connects = 0;
  /** Counters of channels already closed, so stats survive reconnects. */
  private readonly past: ChannelCounters = { sent: 0, received: 0, dropped: 0 };
  private closedWaiters: (() => void)[] = [];

  constructor(private readonly options: PeerLinkOptions) {
    this.pinnedHostKey = publicKeyBlob(options.hostPublicKey);
    this.pinnedSshdKey = options.tunnel ? publicKeyBlob(options.tunnel.sshHostKey) : null;
  }

  /** Starts dialling. */
  start(): void {
    if (!this.attempt && !this.redialTimer && !this.closing) this.dial();
  }

  get isUp(): boolean {
    return this.channel?.isOpen === true;
  }

  /**
   * Sends one message. Returns false if it was dropped: the link is down or
   * its queue is full. Throws E_FRAME_TOO_LARGE if it can never fit a frame.
   */
  send(message: object): boolean {
    if (this.channel) return this.channel.send(message);
    this.past.dropped++;
    return false;
  }

  stats(): LinkStats {
    const now = this.channel?.counters ?? { sent: 0, received: 0, dropped: 0 };
    return {
      up: this.isUp,
      connects: this.connects,
      sent: this.past.sent + now.sent,
      received: this.past.received + now.received,
      dropped: this.past.dropped + now.dropped,
    };
  }

  /** Stops redialling and closes the connection; resolves once its socket is closed. */
  close(): Promise<void> {
    this.closing = true;
    if (this.redialTimer) clearTimeout(this.redialTimer);
    this.redialTimer = null;
    const attempt = this.attempt;
    if (!attempt) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    // The innermost session first; in tunnel mode its close ends the sshd hop.
    attempt.clients.at(-1)?.end();
    // Give the disconnect messages a moment to leave, then cut.
    setTimeout(() => {
      for (const client of attempt.clients) client.destroy();
    }, 100).unref();
    return closed;
  }

  private dial(): void {
    const { options } = this;
    const { tunnel } = options;
    const attempt: Attempt = { clients: [], failure: null, over: false };
    this.attempt = attempt;
    const socket = tcpConnect({
      host: tunnel ? tunnel.sshHost : options.host,
      port: tunnel ? tunnel.sshPort : options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    // Before the handshake: without it a third to half of handshakes stall ~40 ms (Nagle + delayed ACK).
    socket.setNoDelay(true);
    if (!tunnel || !this.pinnedSshdKey) {
      const agent = this.login(attempt, socket, options.username, this.pinnedHostKey, `${options.peer} (${options.host}:${options.port})`);
      this.openLane(attempt, agent);
      agent.on('close', () => this.finish(attempt));
      return;
    }
    const where = `${options.peer}'s sshd (${tunnel.sshUser}@${tunnel.sshHost}:${tunnel.sshPort})`;
    const hop = this.login(attempt, socket, tunnel.sshUser, this.pinnedSshdKey, where);
    hop.on('ready', () => {
      hop.openssh_forwardOutStreamLocal(tunnel.socketPath, (err, stream) => {
        if (err) {
          fail(attempt, 'E_TUNNEL_REFUSED', `${where} would not forward to ${tunnel.socketPath}: ${err.message}`);
          hop.end();
          return;
        }
        const agent = this.login(attempt, stream, options.username, this.pinnedHostKey, `${options.peer} (agent through ${tunnel.socketPath})`);
        this.openLane(attempt, agent);
        agent.on('close', () => hop.end());
      });
    });
    hop.on('close', () => this.finish(attempt));
  }

  /** Starts an SSH login over `sock` with this node's client key, accepting only the pinned host key. */
  private login(attempt: Attempt, sock: Duplex, username: string, pinnedKey: Buffer, where: string): SshClient {
    const { options } = this;
    const client = new Client();
    attempt.clients.push(client);
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') fail(attempt, 'E_AUTH_REFUSED', `${where} refused our key`);
      else fail(attempt, 'E_CONNECTION', `${where}: ${err.message}`);
    });
    client.connect({
      sock,
      username,
      privateKey: options.clientPrivateKey,
      authHandler: ['publickey'],
      hostVerifier: (key: Buffer) => {
        if (key.equals(pinnedKey)) return true;
        fail(attempt, 'E_HOST_KEY_MISMATCH', `${where} presented a host key other than the pinned one`);
        return false;
      },
      readyTimeout: options.readyTimeoutMs ?? 3000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 1000,
      keepaliveCountMax: 3,
    });
    return client;
  }

  /** Once the agent session is up, opens the lane's subsystem and frames messages on it. */
  private openLane(attempt: Attempt, agent: SshClient): void {
    const { options } = this;
    agent.on('ready', () => {
      agent.subsys(LANE_SUBSYSTEM[options.lane], (err, stream) => {
        if (err) {
          fail(attempt, 'E_SUBSYSTEM_REFUSED', `${options.peer} refused ${LANE_SUBSYSTEM[options.lane]}: ${err.message}`);
          agent.end();
          return;
        }
        this.channel = new FramedChannel(stream, options.limits, {
          onMessage: (message) => options.onMessage?.(message),
          onClose: (error) => {
            if (error) fail(attempt, error.code, `${error.message}; closing the connection`);
            agent.end();
          },
          onSendFailed: (error) => options.onProblem?.({ code: error.code, message: error.message, peer: options.peer }),
        }, options.codec);
        this.connects++;
        this.failedAttempts = 0;
        options.onUp?.();
      });
    });
  }

  /** The attempt's outermost connection closed: report, then redial unless closing. */
  private finish(attempt: Attempt): void {
    if (attempt.over) return;
    attempt.over = true;
    for (const client of attempt.clients) client.destroy();
    const { options } = this;
    const wasUp = this.channel !== null;
    if (this.channel) {
      this.channel.close();
      const counters = this.channel.counters;
      this.past.sent += counters.sent;
      this.past.received += counters.received;
      this.past.dropped += counters.dropped;
    }
    this.channel = null;
    this.attempt = null;
    if (attempt.failure) options.onProblem?.({ code: attempt.failure.code, message: attempt.failure.message, peer: options.peer });
    if (wasUp) options.onDown?.();
    if (this.closing) {
      for (const resolve of this.closedWaiters.splice(0)) resolve();
      return;
    }
    const delay = backoffDelayMs(this.failedAttempts++, options.backoff ?? DEFAULT_BACKOFF, options.random ?? Math.random);
    this.redialTimer = setTimeout(() => {
      this.redialTimer = null;
      this.dial();
    }, delay);
  }
}

/** Keeps the first failure of an attempt: later ones are its consequences. */
function fail(attempt: Attempt, code: TransportErrorCode, message: string): void {
  attempt.failure ??= new TransportError(code, message);
}
