// Framed messages over one SSH channel, either end. Reads go through the
// frame decoder; a refused frame closes the channel (the owner closes the
// connection). Frames sent in one turn of the event loop go out together,
// as one channel write at the end of the turn: a burst of small messages
// (a node's resource reports, a leader's appends to every peer) costs one
// SSH packet's encryption and one socket write instead of one per message.
// Writes respect the channel's back-pressure: once write() returns false,
// frames wait in a bounded queue until 'drain'; beyond the bound they are
// dropped and counted. Dropping is safe for Raft traffic, which is
// retransmitted; it keeps a slow peer from growing our memory.
//
// With a codec and a lane limit `offloadAboveBytes`, messages at least that
// large are encoded and decoded by the codec's worker thread instead of on
// the event loop; frames still go out, and messages still come in, in order.

import type { Duplex } from 'node:stream';
import { TransportError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder, LargeFrame } from './framing.js';
import { detachLongStrings } from './long-strings.js';
import type { OffloadCodec } from './offload-codec.js';

export interface FramedChannelLimits {
  /** Largest frame body sent or accepted, bytes. */
  maxFrameBytes: number;
  /** Bytes of frames that may wait for 'drain' before new ones are dropped. At least maxFrameBytes on a bulk lane. */
  maxQueuedBytes: number;
  /**
   * Messages whose JSON is at least this large, bytes, are encoded and
   * decoded in the codec worker (when the channel has one); unset: never.
   */
  offloadAboveBytes?: number;
}

export const CONTROL_LIMITS: FramedChannelLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedBytes: 16 * 1024 * 1024,
};

/**
 * 256 KiB of snapshot JSON costs ~0.7 ms to encode and as much to decode on
 * the event loop (1 MiB: ~2.7 ms; 8 MiB: 35-45 ms; 63 MiB: ~200-240 ms;
 * measured on 2 cores, more under load). Below this, a worker round trip
 * buys nothing; above it, the stall grows past a heartbeat's slack.
 */
export const DEFAULT_OFFLOAD_ABOVE_BYTES = 256 * 1024;

/** Most bytes of frames joined into one channel write. */
const MAX_WRITE_BYTES = 256 * 1024;

export const BULK_LIMITS: FramedChannelLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueuedBytes: 2 * DEFAULT_MAX_FRAME_BYTES,
  offloadAboveBytes: DEFAULT_OFFLOAD_ABOVE_BYTES,
};

export interface FramedChannelHandlers {
  onMessage(message: object): void;
  /** Called once, when the channel is gone; `error` is the refused frame (or failed worker), if that was why. */
  onClose(error: TransportError | null): void;
  /** A message accepted by send() was dropped later: the worker found it too large, or failed. */
  onSendFailed?(error: TransportError): void;
}

export interface ChannelCounters {
  sent: number;
  received: number;
  /** Frames dropped because the queue was full, the channel closed, or the worker could not encode them. */
  dropped: number;
}

/** A frame waiting to be written; `frame` is null while the worker encodes it, and `bytes` a lower bound until then. */
interface Outgoing {
  frame: Buffer | null;
  bytes: number;
}

export class FramedChannel {
  readonly counters: ChannelCounters = { sent: 0, received: 0, dropped: 0 };
  private readonly decoder: FrameDecoder;
  /** Frames in send order, waiting for the end of the turn, for 'drain' or for the worker. */
  private readonly outbox: Outgoing[] = [];
  private queuedBytes = 0;
  private waitingForDrain = false;
  /** A pump is due at the end of this turn. */
  private pumpQueued = false;
  /** Messages in arrival order, while one ahead of them is still being decoded by the worker. */
  private readonly inbox: { message: object | null }[] = [];
  private closed = false;

  constructor(
    private readonly stream: Duplex,
    private readonly limits: FramedChannelLimits,
    private readonly handlers: FramedChannelHandlers,
    private readonly codec?: OffloadCodec,
  ) {
    this.decoder = new FrameDecoder(limits.maxFrameBytes, this.offloadAbove);
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
   * closed). Throws E_FRAME_TOO_LARGE, sending nothing, if it can never fit a
   * frame; a message handed to the worker that turns out too large there is
   * dropped and reported through `onSendFailed` instead.
   */
  send(message: object): boolean {
    const { codec } = this;
    // The walk that sizes a message costs far less than encoding it; lanes that never offload skip it.
    const detached = codec && this.offloadAbove !== Infinity ? detachLongStrings(message, codec.longStringChars) : null;
    if (!codec || !detached || detached.bytesAtLeast < this.offloadAbove) return this.enqueue(encodeFrame(message, this.limits.maxFrameBytes));
    if (detached.bytesAtLeast > this.limits.maxFrameBytes) {
      throw new TransportError('E_FRAME_TOO_LARGE', `frame body of at least ${detached.bytesAtLeast} bytes exceeds the maximum of ${this.limits.maxFrameBytes}`);
    }
    if (!this.hasRoom(detached.bytesAtLeast)) return false;
    const entry: Outgoing = { frame: null, bytes: detached.bytesAtLeast };
    this.outbox.push(entry);
    this.queuedBytes += entry.bytes;
    codec.encode(detached, this.limits.maxFrameBytes).then(
      (frame) => {
        if (this.closed) return;
        this.queuedBytes += frame.length - entry.bytes;
        entry.bytes = frame.length;
        entry.frame = frame;
        this.pump();
      },
      (err: unknown) => {
        if (this.closed) return;
        this.outbox.splice(this.outbox.indexOf(entry), 1);
        this.queuedBytes -= entry.bytes;
        this.counters.dropped++;
        this.handlers.onSendFailed?.(asTransportError(err));
        this.pump();
      },
    );
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.stream.destroy();
    this.finish(null);
  }

  /** Messages at least this large (JSON bytes) go through the worker; Infinity without a codec. */
  private get offloadAbove(): number {
    return this.codec ? (this.limits.offloadAboveBytes ?? Infinity) : Infinity;
  }

  /** Queues an encoded frame for the write at the end of this turn; false (dropped) when the queue is full. */
  private enqueue(frame: Buffer): boolean {
    if (!this.hasRoom(frame.length)) return false;
    this.outbox.push({ frame, bytes: frame.length });
    this.queuedBytes += frame.length;
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
    return true;
  }

  /** False, counting a drop, when the channel is closed or `bytes` more would overfill a non-empty queue. */
  private hasRoom(bytes: number): boolean {
    const busy = this.outbox.length > 0 || this.waitingForDrain;
    if (!this.closed && (!busy || this.queuedBytes + bytes <= this.limits.maxQueuedBytes)) return true;
    this.counters.dropped++;
    return false;
  }

  private flush(): void {
    this.waitingForDrain = false;
    this.pump();
  }

  /**
   * Writes the frames at the head of the outbox, joined into writes of up to
   * MAX_WRITE_BYTES, until one is still with the worker or the stream pushes back.
   */
  private pump(): void {
    while (!this.waitingForDrain && !this.closed) {
      const batch: Buffer[] = [];
      let bytes = 0;
      for (let head = this.outbox[0]; head?.frame && (batch.length === 0 || bytes + head.bytes <= MAX_WRITE_BYTES); head = this.outbox[0]) {
        this.outbox.shift();
        this.queuedBytes -= head.bytes;
        batch.push(head.frame);
        bytes += head.bytes;
      }
      if (batch.length === 0) break;
      this.counters.sent += batch.length;
      if (!this.stream.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes))) this.waitingForDrain = true;
    }
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      this.counters.received++;
      if (frame instanceof LargeFrame) this.decodeInWorker(frame.body);
      else if (this.inbox.length === 0) this.handlers.onMessage(frame);
      else this.inbox.push({ message: frame });
      if (this.closed) return;
    }
    if (error) this.fail(error);
  }

  private decodeInWorker(body: Buffer): void {
    const entry: { message: object | null } = { message: null };
    this.inbox.push(entry);
    this.codec?.decode(body).then(
      (message) => {
        entry.message = message;
        this.deliver();
      },
      (err: unknown) => this.fail(asTransportError(err)),
    );
  }

  /** Hands over messages from the head of the inbox until one is still with the worker. */
  private deliver(): void {
    while (!this.closed) {
      const head = this.inbox[0];
      if (!head?.message) break;
      this.inbox.shift();
      this.handlers.onMessage(head.message);
    }
  }

  private fail(error: TransportError): void {
    if (this.closed) return;
    this.stream.destroy();
    this.finish(error);
  }

  private finish(error: TransportError | null): void {
    if (this.closed) return;
    this.closed = true;
    this.counters.dropped += this.outbox.length;
    this.outbox.length = 0;
    this.queuedBytes = 0;
    this.inbox.length = 0;
    this.handlers.onClose(error);
  }
}

function asTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError('E_WORKER_FAILED', err instanceof Error ? err.message : String(err));
}
