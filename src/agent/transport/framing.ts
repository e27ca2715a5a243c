// Frames on an SSH channel: a 4-byte big-endian body length, then the body,
// UTF-8 JSON of one object. The decoder takes whatever chunks the stream
// hands it (a frame split across chunks, many frames in one chunk) and
// refuses a frame before buffering it when its declared length is too big.
// A decoder may be told to leave large bodies undecoded (LargeFrame), for a
// worker thread to parse off the event loop; it gathers such a body into one
// buffer of its own as the chunks arrive, so no big copy happens at the end.

import { TransportError } from './errors.js';

export const FRAME_HEADER_BYTES = 4;
/** Default largest frame body, bytes: room for a snapshot of a large cluster database. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Encodes one object as a frame. Throws E_FRAME_TOO_LARGE (nothing is sent) when the body exceeds `maxFrameBytes`. */
export function encodeFrame(value: object, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const json = JSON.stringify(value);
  const bodyBytes = Buffer.byteLength(json, 'utf8');
  if (bodyBytes > maxFrameBytes) {
    throw new TransportError('E_FRAME_TOO_LARGE', `frame body of ${bodyBytes} bytes exceeds the maximum of ${maxFrameBytes}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  frame.writeUInt32BE(bodyBytes, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/** A frame body at or above the decoder's `largeBodyBytes`, not yet decoded. `body` owns its whole ArrayBuffer (it can be transferred). */
export class LargeFrame {
  constructor(readonly body: Buffer) {}
}

export interface DecodeResult {
  /** Every complete frame in the chunks so far, in order; LargeFrame only when `largeBodyBytes` is set. */
  frames: (object | LargeFrame)[];
  /** Set once a frame is refused; the decoder then stays failed and the stream must be closed. */
  error: TransportError | null;
}

export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Body length of the frame being assembled, once its header is read. */
  private bodyBytes: number | null = null;
  private failure: TransportError | null = null;
  /** The large body being gathered, and how many of its bytes have arrived. */
  private large: { body: Buffer; filled: number } | null = null;

  /** Bodies of `largeBodyBytes` or more come out as LargeFrame; by default none do. */
  constructor(
    private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
    private readonly largeBodyBytes: number = Infinity,
  ) {}

  push(chunk: Buffer): DecodeResult {
    const frames: (object | LargeFrame)[] = [];
    if (this.failure) return { frames, error: this.failure };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    while (true) {
      if (this.bodyBytes === null) {
        if (this.bufferedBytes < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length === 0) return this.fail(frames, 'E_FRAME_MALFORMED', 'frame of length 0');
        if (length > this.maxFrameBytes) {
          return this.fail(frames, 'E_FRAME_TOO_LARGE', `frame declares ${length} bytes, maximum is ${this.maxFrameBytes}`);
        }
        this.bodyBytes = length;
        // Not pooled: the buffer is handed whole to the worker.
        if (length >= this.largeBodyBytes) this.large = { body: Buffer.allocUnsafeSlow(length), filled: 0 };
      }
      if (this.large) {
        const count = Math.min(this.bufferedBytes, this.large.body.length - this.large.filled);
        this.copyOut(this.large.body, this.large.filled, count);
        this.large.filled += count;
        if (this.large.filled < this.large.body.length) break;
        frames.push(new LargeFrame(this.large.body));
        this.large = null;
        this.bodyBytes = null;
        continue;
      }
      if (this.bufferedBytes < this.bodyBytes) break;
      const body = this.take(this.bodyBytes);
      this.bodyBytes = null;
      const value = parseFrameBody(body);
      if (value === null) return this.fail(frames, 'E_FRAME_MALFORMED', 'frame body is not UTF-8 JSON of an object');
      frames.push(value);
    }
    return { frames, error: null };
  }

  /** Bytes held for an incomplete frame (a header or a partial body). */
  get pendingBytes(): number {
    return this.bufferedBytes + (this.large?.filled ?? 0);
  }

  private fail(frames: object[], code: 'E_FRAME_TOO_LARGE' | 'E_FRAME_MALFORMED', message: string): DecodeResult {
    this.failure = new TransportError(code, message);
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    this.large = null;
    return { frames, error: this.failure };
  }

  /** Removes exactly `n` buffered bytes (n <= bufferedBytes), copying only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      this.bufferedBytes -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out, 0, n);
    return out;
  }

  /** Removes `n` buffered bytes (n <= bufferedBytes) into `target` at `offset`. */
  private copyOut(target: Buffer, offset: number, n: number): void {
    this.bufferedBytes -= n;
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      if (!chunk) throw new Error('FrameDecoder.copyOut: fewer bytes buffered than counted');
      const count = Math.min(chunk.length, n - filled);
      chunk.copy(target, offset + filled, 0, count);
      filled += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The object a frame body holds; null if the body is not UTF-8 JSON of an object. */
export function parseFrameBody(body: Uint8Array): object | null {
  try {
    const value: unknown = JSON.parse(utf8.decode(body));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
