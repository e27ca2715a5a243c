// The event loop's side of the codec worker (codec-worker.ts): one
// long-lived worker thread per transport, started on first use and stopped
// by close(). Work moves in steps of at most one piece (~1 Mi chars) per
// turn of the event loop, so a heartbeat never waits behind a whole
// snapshot: the loop only clones short skeletons and pieces, moves
// transferred buffers, and decodes one piece of text at a time.
//
// Replies may come in any order across requests; each FramedChannel keeps
// its own frames in order.

import { Worker } from 'node:worker_threads';
import type { CodecReply, CodecRequest, StringPieces } from './codec-worker.js';
import { TransportError } from './errors.js';
import { attachStrings, splitText } from './long-strings.js';
import type { DetachedStrings, ValuePath } from './long-strings.js';

export interface OffloadCodecOptions {
  /** Strings at least this long (UTF-16 units) cross in pieces. Default 64 Ki. */
  longStringChars?: number;
  /** Largest piece, UTF-16 units. Default 1 Mi (~1-2 ms to copy between threads). */
  pieceChars?: number;
}

type Decoded = { skeleton: object; paths: ValuePath[]; strings: StringPieces[] };

interface Pending {
  resolve: (reply: CodecReply) => void;
  reject: (error: TransportError) => void;
}

export class OffloadCodec {
  readonly longStringChars: number;
  private readonly pieceChars: number;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(options: OffloadCodecOptions = {}) {
    this.longStringChars = options.longStringChars ?? 64 * 1024;
    this.pieceChars = options.pieceChars ?? 1024 * 1024;
  }

  /** True while the worker thread exists. */
  get running(): boolean {
    return this.worker !== null;
  }

  /**
   * Encodes a message whose long strings `detachLongStrings` (with
   * `longStringChars`) took out, into a frame. Rejects with
   * E_FRAME_TOO_LARGE, or E_WORKER_FAILED if the worker died or was stopped.
   */
  async encode(detached: DetachedStrings, maxFrameBytes: number): Promise<Buffer> {
    const worker = this.start();
    const id = this.nextId++;
    const pieces = detached.strings.map((text) => splitText(text, this.pieceChars));
    const replied = this.request(worker, {
      kind: 'encode',
      id,
      skeleton: detached.skeleton,
      paths: detached.paths,
      pieceCounts: pieces.map((list) => list.length),
      maxFrameBytes,
    });
    // Rejections are taken up by the await below; until then, pieces go one per turn.
    replied.catch(() => {});
    for (const piece of pieces.flat()) {
      await nextTurn();
      if (this.worker !== worker) break;
      worker.postMessage({ kind: 'piece', id, text: piece } satisfies CodecRequest);
    }
    const reply = await replied;
    if (!('frame' in reply)) throw new Error('codec worker: expected a frame');
    return Buffer.from(reply.frame);
  }

  /** Decodes a frame body (which it takes: its ArrayBuffer is transferred). Rejects with E_FRAME_MALFORMED or E_WORKER_FAILED. */
  async decode(body: Buffer): Promise<object> {
    const worker = this.start();
    const id = this.nextId++;
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer
      ? body.buffer
      : new Uint8Array(body).buffer;
    const reply = await this.request(
      worker,
      { kind: 'decode', id, body: owned, minChars: this.longStringChars, pieceChars: this.pieceChars },
      [owned],
    );
    if (!('skeleton' in reply)) throw new Error('codec worker: expected a decoded message');
    return assemble(reply);
  }

  /** Stops the worker; requests in flight reject with E_WORKER_FAILED. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.stopped(worker, 'the codec was closed');
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.closed) throw workerGone();
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./codec-worker.js', import.meta.url));
    worker.on('message', (reply: CodecReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new TransportError(reply.error.code, reply.error.message));
      else pending.resolve(reply);
    });
    worker.on('error', (err) => this.stopped(worker, err.message));
    worker.on('exit', (code) => this.stopped(worker, `exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  /** Forgets `worker` (if current) and fails what it had in hand; the next request starts a new one. */
  private stopped(worker: Worker | null, why: string): void {
    if (worker === null || this.worker !== worker) return;
    this.worker = null;
    for (const pending of this.pending.values()) pending.reject(new TransportError('E_WORKER_FAILED', `codec worker: ${why}`));
    this.pending.clear();
  }

  private request(worker: Worker, request: CodecRequest, transfer: ArrayBuffer[] = []): Promise<CodecReply> {
    return new Promise((resolve, reject) => {
      if (this.worker !== worker) {
        reject(workerGone());
        return;
      }
      this.pending.set(request.id, { resolve, reject });
      try {
        worker.postMessage(request, transfer);
      } catch (err) {
        // A value structured clone refuses (a function, a symbol): the message is unsendable.
        this.pending.delete(request.id);
        reject(new TransportError('E_WORKER_FAILED', `cannot pass the message to the codec worker: ${(err as Error).message}`));
      }
    });
  }
}

/**
 * Rebuilds the long strings one piece per turn of the event loop, then puts
 * them back. Joined, not concatenated: the receiver reads the string at
 * once, and a rope of pieces would be flattened then, in one turn.
 */
async function assemble(decoded: Decoded): Promise<object> {
  const strings: string[] = [];
  for (const { encoding, pieces } of decoded.strings) {
    const texts: string[] = [];
    for (const piece of pieces) {
      await nextTurn();
      texts.push(Buffer.from(piece).toString(encoding));
    }
    strings.push(texts.join(''));
  }
  attachStrings(decoded.skeleton, decoded.paths, strings);
  return decoded.skeleton;
}

/** Resolves after pending I/O (heartbeats) has had its turn. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function workerGone(): TransportError {
  return new TransportError('E_WORKER_FAILED', 'the codec worker was stopped');
}
