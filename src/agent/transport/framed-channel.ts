// Framed messages over one SSH channel, either end. Reads go through the
// frame decoder; a refused frame closes the channel (the owner closes the
// connection). Writes respect the channel's back-pressure: once write()
// returns false, frames wait in a bounded queue until 'drain'; beyond the
// bound they are dropped and counted. Dropping is safe for Raft traffic,
// which is retransmitted; it keeps a slow peer from growing our memory.

import type { Duplex } from 'node:stream';
import type { TransportError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './framing.js';

export interface FramedChannelLimits {
  /** Largest frame body sent or accepted, bytes. */
  maxFrameBytes: number;
  /** Bytes of frames that may wait for 'drain' before new ones are dropped. At least maxFrameBytes on a bulk lane. */
  maxQueuedBytes: number;
}

export const CONTROL_LIMITS: FramedChannelLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedBytes: 16 * 1024 * 1024,
};

export const BULK_LIMITS: FramedChannelLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedBytes: 2 * DEFAULT_MAX_FRAME_BYTES,
};

export interface FramedChannelHandlers {
  onMessage(message: object): void;
  /** Called once, when the channel is gone; `error` is the refused frame, if that was why. */
  onClose(error: TransportError | null): void;
}

export interface ChannelCounters {
  sent: number;
  received: number;
  /** Frames dropped because the queue was full or the channel closed. */
  dropped: number;
}

export class FramedChannel {
  readonly counters: ChannelCounters = { sent: 0, received: 0, dropped: 0 };
  private readonly decoder: FrameDecoder;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private waitingForDrain = false;
  private closed = false;

  constructor(
    private readonly stream: Duplex,
    private readonly limits: FramedChannelLimits,
    private readonly handlers: FramedChannelHandlers,
  ) {
    this.decoder = new FrameDecoder(limits.maxFrameBytes);
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    stream.on('drain', () => this.flush());
    // ssh2 channels report the end of a channel with 'close' (and sometimes only 'end').
    stream.on('close', () => this.finish(null));
    stream.on('end', () => this.finish(null));
    stream.on('error', () => this.finish(null));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Sends one message. Returns false if it was dropped (queue full or channel
   * closed). Throws E_FRAME_TOO_LARGE, sending nothing, if it can never fit a frame.
   */
  send(message: object): boolean {
    const frame = encodeFrame(message, this.limits.maxFrameBytes);
    if (this.closed) {
      this.counters.dropped++;
      return false;
    }
    if (this.waitingForDrain) {
      if (this.queuedBytes + frame.length > this.limits.maxQueuedBytes) {
        this.counters.dropped++;
        return false;
      }
      this.queue.push(frame);
      this.queuedBytes += frame.length;
      return true;
    }
    this.write(frame);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.stream.destroy();
    this.finish(null);
  }

  private write(frame: Buffer): void {
    this.counters.sent++;
    if (!this.stream.write(frame)) this.waitingForDrain = true;
  }

  private flush(): void {
    this.waitingForDrain = false;
    while (!this.waitingForDrain && !this.closed) {
      const frame = this.queue.shift();
      if (!frame) break;
      this.queuedBytes -= frame.length;
      this.write(frame);
    }
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      this.counters.received++;
      this.handlers.onMessage(frame);
      if (this.closed) return;
    }
    if (error) {
      this.stream.destroy();
      this.finish(error);
    }
  }

  private finish(error: TransportError | null): void {
    if (this.closed) return;
    this.closed = true;
    this.counters.dropped += this.queue.length;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.handlers.onClose(error);
  }
}
