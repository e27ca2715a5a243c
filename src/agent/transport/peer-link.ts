// One outbound SSH connection to a peer carrying one lane (a subsystem
// channel of framed messages). The peer's host key is pinned: any other
// key ends the handshake. A dropped connection is redialled with capped,
// jittered exponential backoff until `close()`.
//
// A node keeps two links per peer, control and bulk, on separate TCP
// connections, so a snapshot in flight never delays a heartbeat (safety
// rule 7).

import { connect as tcpConnect } from 'node:net';
import ssh2 from 'ssh2';
import type { NodeId } from '../consensus/types.js';
import { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { TransportError } from './errors.js';
import type { ProblemHandler, TransportErrorCode } from './errors.js';
import { FramedChannel } from './framed-channel.js';
import type { ChannelCounters, FramedChannelLimits } from './framed-channel.js';
import { publicKeyBlob } from './keys.js';
import { LANE_SUBSYSTEM } from './server.js';
import type { Lane } from './server.js';

const { Client } = ssh2;

export interface PeerLinkOptions {
  /** The peer dialled, for problem reports. */
  peer: NodeId;
  host: string;
  port: number;
  /** Local address to dial from (the agent's --source-address); default: the OS picks. */
  localAddress?: string;
  /** The peer's host public key line (`ssh-ed25519 AAAA...`); no other key is accepted. */
  hostPublicKey: string;
  /** This node's client private key (OpenSSH format). */
  clientPrivateKey: string;
  /** SSH user name sent at login; informational, the server identifies us by key. */
  username: string;
  lane: Lane;
  limits: FramedChannelLimits;
  /** TCP connect + SSH handshake + login must finish within this, ms. Default 3000. */
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

export class PeerLink {
  private readonly pinnedHostKey: Buffer;
  private client: InstanceType<typeof Client> | null = null;
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
  }

  /** Starts dialling. */
  start(): void {
    if (!this.client && !this.redialTimer && !this.closing) this.dial();
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
    const client = this.client;
    if (!client) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    client.end();
    // Give the disconnect message a moment to leave, then cut.
    setTimeout(() => client.destroy(), 100).unref();
    return closed;
  }

  private dial(): void {
    const { options } = this;
    const socket = tcpConnect({ host: options.host, port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    // Before the handshake: without it a third to half of handshakes stall ~40 ms (Nagle + delayed ACK).
    socket.setNoDelay(true);
    const client = new Client();
    this.client = client;
    let failure: TransportError | null = null;
    const fail = (code: TransportErrorCode, message: string): void => {
      failure ??= new TransportError(code, message);
    };

    client.on('ready', () => {
      client.subsys(LANE_SUBSYSTEM[options.lane], (err, stream) => {
        if (err) {
          fail('E_SUBSYSTEM_REFUSED', `${options.peer} refused ${LANE_SUBSYSTEM[options.lane]}: ${err.message}`);
          client.end();
          return;
        }
        this.channel = new FramedChannel(stream, options.limits, {
          onMessage: (message) => options.onMessage?.(message),
          onClose: (error) => {
            if (error) fail(error.code, `${error.message}; closing the connection`);
            client.end();
          },
        });
        this.connects++;
        this.failedAttempts = 0;
        options.onUp?.();
      });
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') fail('E_AUTH_REFUSED', `${options.peer} refused our key`);
      else fail('E_CONNECTION', `${options.peer} (${options.host}:${options.port}): ${err.message}`);
    });
    client.on('close', () => {
      const wasUp = this.channel !== null;
      if (this.channel) {
        this.channel.close();
        const counters = this.channel.counters;
        this.past.sent += counters.sent;
        this.past.received += counters.received;
        this.past.dropped += counters.dropped;
      }
      this.channel = null;
      this.client = null;
      if (failure) options.onProblem?.({ code: failure.code, message: failure.message, peer: options.peer });
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
    });

    client.connect({
      sock: socket,
      username: options.username,
      privateKey: options.clientPrivateKey,
      authHandler: ['publickey'],
      hostVerifier: (key: Buffer) => {
        if (key.equals(this.pinnedHostKey)) return true;
        fail('E_HOST_KEY_MISMATCH', `${options.peer} presented a host key other than the pinned one`);
        return false;
      },
      readyTimeout: options.readyTimeoutMs ?? 3000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 1000,
      keepaliveCountMax: 3,
    });
  }
}
