// FramedChannel over a stream whose writes complete only when the test says
// so: what an SSH channel does when the peer's window is shut.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import type { TransportError } from '../../src/agent/transport/errors.js';
import { FramedChannel } from '../../src/agent/transport/framed-channel.js';
import { encodeFrame, FrameDecoder } from '../../src/agent/transport/framing.js';

/** Accepts writes into a 1 KiB buffer but completes each one only on release(). */
class HeldPipe extends Duplex {
  readonly written: Buffer[] = [];
  private held: (() => void) | null = null;

  constructor() {
    super({ writableHighWaterMark: 1024 });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written.push(chunk);
    this.held = done;
  }

  releaseAll(): void {
    while (this.held) {
      const done = this.held;
      this.held = null;
      done();
    }
  }
}

function decodeAll(chunks: Buffer[]): object[] {
  return new FrameDecoder().push(Buffer.concat(chunks)).frames;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('when writes stall, frames queue up to the bound, the rest are dropped and counted, and the queue drains in order', async () => {
  const pipe = new HeldPipe();
  const channel = new FramedChannel(pipe, { maxFrameBytes: 4096, maxQueuedBytes: 1000 }, { onMessage: () => {}, onClose: () => {} });
  const payload = 'p'.repeat(90); // ~110-byte frames
  const accepted: number[] = [];
  for (let i = 0; i < 40; i++) if (channel.send({ i, payload })) accepted.push(i);

  assert.ok(channel.counters.dropped > 0, 'some frames dropped');
  assert.equal(accepted.length + channel.counters.dropped, 40);
  // Accepted frames are a prefix: nothing is dropped while earlier ones still wait.
  assert.deepEqual(accepted, [...Array(accepted.length).keys()]);

  for (let turn = 0; turn < 200 && pipe.written.length < accepted.length; turn++) {
    pipe.releaseAll();
    await nextTurn();
  }
  const delivered = decodeAll(pipe.written).map((m) => (m as { i: number }).i);
  assert.deepEqual(delivered, accepted);
  assert.equal(channel.counters.sent, accepted.length);
});

test('received bytes become messages; a broken frame closes the channel with its code', () => {
  const pipe = new HeldPipe();
  const messages: object[] = [];
  const closes: (TransportError | null)[] = [];
  const channel = new FramedChannel(pipe, { maxFrameBytes: 64, maxQueuedBytes: 1000 }, {
    onMessage: (m) => messages.push(m),
    onClose: (error) => closes.push(error),
  });
  pipe.emit('data', Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ a: 2 }).subarray(0, 5)]));
  pipe.emit('data', encodeFrame({ a: 2 }).subarray(5));
  assert.deepEqual(messages, [{ a: 1 }, { a: 2 }]);

  pipe.emit('data', encodeFrame({ big: 'x'.repeat(100) }, 1000));
  assert.equal(closes.length, 1);
  assert.equal(closes[0]?.code, 'E_FRAME_TOO_LARGE');
  assert.equal(channel.isOpen, false);
  assert.equal(pipe.destroyed, true);
  assert.equal(channel.send({ late: true }), false);
});
