// The codec worker thread: JSON encoding and decoding of large frames, so
// that the agent's event loop never spends tens to hundreds of ms in
// JSON.stringify / JSON.parse of a snapshot (ARCHITECTURE.md, "Node.js
// specifics"). Long strings come and go in pieces (see long-strings.ts);
// frames and decoded pieces cross as transferred ArrayBuffers (no copy).

import { parentPort } from 'node:worker_threads';
import type { TransportErrorCode } from './errors.js';
import { TransportError } from './errors.js';
import { encodeFrame, parseFrameBody } from './framing.js';
import { attachStrings, detachLongStrings, splitText } from './long-strings.js';
import type { ValuePath } from './long-strings.js';

/** Encodes a message once all the pieces of its long strings have followed. */
export interface EncodeRequest {
  kind: 'encode';
  id: number;
  skeleton: object;
  paths: ValuePath[];
  /** How many pieces make up each string, in the order of `paths`. */
  pieceCounts: number[];
  maxFrameBytes: number;
}

/** The next piece of the long strings of encode request `id`, in order. */
export interface PieceRequest {
  kind: 'piece';
  id: number;
  text: string;
}

export interface DecodeRequest {
  kind: 'decode';
  id: number;
  /** The frame body, UTF-8 JSON (transferred). */
  body: ArrayBuffer;
  /** Strings of at least this many UTF-16 units come back in pieces. */
  minChars: number;
  pieceChars: number;
}

export type CodecRequest = PieceRequest | EncodeRequest | DecodeRequest;

/**
 * A long string of a decoded message, as bytes in pieces: UTF-8, or UTF-16LE
 * when the string holds an unpaired surrogate (which UTF-8 cannot carry).
 */
export interface StringPieces {
  encoding: 'utf8' | 'utf16le';
  pieces: ArrayBuffer[];
}

export type CodecReply =
  | { id: number; frame: ArrayBuffer }
  | { id: number; skeleton: object; paths: ValuePath[]; strings: StringPieces[] }
  | { id: number; error: { code: TransportErrorCode; message: string } };

const port = parentPort;
if (!port) throw new Error('codec-worker.js runs only as a worker thread');

/** In unicode mode a surrogate pair is one code point, so this matches only a half without its partner. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Encode requests waiting for pieces, by id. */
const waiting = new Map<number, { request: EncodeRequest; pieces: string[] }>();

port.on('message', (request: CodecRequest) => {
  try {
    if (request.kind === 'decode') {
      decode(request);
      return;
    }
    const entry = request.kind === 'encode' ? { request, pieces: [] } : waiting.get(request.id);
    if (!entry) return;
    if (request.kind === 'piece') entry.pieces.push(request.text);
    const expected = entry.request.pieceCounts.reduce((sum, count) => sum + count, 0);
    if (entry.pieces.length < expected) {
      waiting.set(request.id, entry);
      return;
    }
    waiting.delete(request.id);
    encode(entry.request, entry.pieces);
  } catch (err) {
    waiting.delete(request.id);
    const code = err instanceof TransportError ? err.code : 'E_WORKER_FAILED';
    reply({ id: request.id, error: { code, message: err instanceof Error ? err.message : String(err) } });
  }
});

function encode(request: EncodeRequest, pieces: string[]): void {
  let next = 0;
  const strings = request.pieceCounts.map((count) => {
    const text = pieces.slice(next, next + count).join('');
    next += count;
    return text;
  });
  attachStrings(request.skeleton, request.paths, strings);
  const frame = encodeFrame(request.skeleton, request.maxFrameBytes);
  const owned = ownArrayBuffer(frame);
  reply({ id: request.id, frame: owned }, [owned]);
}

function decode(request: DecodeRequest): void {
  const message = parseFrameBody(new Uint8Array(request.body));
  if (message === null) throw new TransportError('E_FRAME_MALFORMED', 'frame body is not UTF-8 JSON of an object');
  const detached = detachLongStrings(message, request.minChars);
  const transfer: ArrayBuffer[] = [];
  const strings = detached.strings.map((text): StringPieces => {
    const encoding = UNPAIRED_SURROGATE.test(text) ? 'utf16le' : 'utf8';
    const pieces = splitText(text, request.pieceChars).map((piece) => ownArrayBuffer(Buffer.from(piece, encoding)));
    transfer.push(...pieces);
    return { encoding, pieces };
  });
  reply({ id: request.id, skeleton: detached.skeleton, paths: detached.paths, strings }, transfer);
}

/** The buffer's bytes in an ArrayBuffer of their own, so it can be transferred (small Buffers share a pool). */
function ownArrayBuffer(buffer: Buffer): ArrayBuffer {
  const backing = buffer.buffer;
  if (backing instanceof ArrayBuffer && buffer.byteOffset === 0 && buffer.byteLength === backing.byteLength) return backing;
  return new Uint8Array(buffer).buffer;
}

function reply(message: CodecReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}
