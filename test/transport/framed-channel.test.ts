// FramedChannel over a stream whose writes complete only when the test says
// so: what an SSH channel does when the peer's window is shut.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import type { TransportError } from '../../src/agent/transport/errors.js';
import { FramedChannel } from '../../src/agent/transport/framed-channel.js';
import { encodeFrame, FrameDecoder } from '../../src/agent/transport/framing.js';
import { OffloadCodec } from '../../src/agent/transport/offload-codec.js';
import { waitFor } from './helpers.js';

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

function seqs(messages: object[]): number[] {
  return messages.map((m) => (m as { seq: number }).seq);
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

test('frames sent in one turn go out as one write at its end, in order; a later turn writes again', async () => {
  const pipe = new HeldPipe();
  const channel = new FramedChannel(pipe, { maxFrameBytes: 4096, maxQueuedBytes: 1 << 20 }, { onMessage: () => {}, onClose: () => {} });
  for (let seq = 0; seq < 50; seq++) assert.equal(channel.send({ seq }), true);
  assert.equal(pipe.written.length, 0, 'nothing is written during the turn');
  await Promise.resolve();
  assert.equal(pipe.written.length, 1);
  assert.deepEqual(seqs(decodeAll(pipe.written)), [...Array(50).keys()]);
  pipe.releaseAll();
  await nextTurn();
  channel.send({ seq: 50 });
  await nextTurn();
  assert.equal(pipe.written.length, 2);
  assert.deepEqual(seqs(decodeAll(pipe.written)), [...Array(51).keys()]);
  assert.equal(channel.counters.sent, 51);
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

test('with a codec, large frames go through the worker and keep their place among small ones, both ways', async () => {
  const codec = new OffloadCodec({ longStringChars: 50, pieceChars: 64 });
  try {
    const limits = { maxFrameBytes: 4096, maxQueuedBytes: 3000, offloadAboveBytes: 200 };
    const pipe = new HeldPipe();
    const received: object[] = [];
    const sendFailures: TransportError[] = [];
    const channel = new FramedChannel(pipe, limits, {
      onMessage: (m) => received.push(m),
      onClose: () => {},
      onSendFailed: (error) => sendFailures.push(error),
    }, codec);

    const large = (seq: number, chars: number, char = 'é') => ({ seq, data: char.repeat(chars) });
    assert.equal(channel.send({ seq: 0 }), true); // written at the end of this turn
    assert.equal(channel.send(large(1, 300)), true); // to the worker
    assert.equal(channel.send({ seq: 2 }), true); // waits behind 1
    assert.equal(channel.send(large(3, 1500, '€')), true); // ~1500 bytes by its characters, 4500 in UTF-8: the worker refuses it
    assert.equal(channel.send(large(4, 1600)), false, 'no room: 2 × 1600 + queued > 3000');
    assert.equal(channel.send({ seq: 5 }), true);
    assert.throws(() => channel.send(large(6, 5000)), (err: TransportError) => err.code === 'E_FRAME_TOO_LARGE');

    await waitFor(() => sendFailures.length === 1 && pipe.written.length >= 1, 'the worker to finish');
    for (let turn = 0; turn < 200 && decodeAll(pipe.written).length < 4; turn++) {
      pipe.releaseAll();
      await nextTurn();
    }
    assert.deepEqual(seqs(decodeAll(pipe.written)), [0, 1, 2, 5]);
    assert.equal(sendFailures[0]?.code, 'E_FRAME_TOO_LARGE');
    assert.equal(channel.counters.dropped, 2);

    // Inbound: a large frame is decoded in the worker; small ones after it wait for it.
    const frames = [{ seq: 10 }, large(11, 400), { seq: 12 }, large(13, 300), { seq: 14 }].map((m) => encodeFrame(m));
    const bytes = Buffer.concat(frames);
    for (let i = 0; i < bytes.length; i += 100) pipe.emit('data', bytes.subarray(i, i + 100));
    assert.deepEqual(seqs(received), [10]);
    await waitFor(() => received.length === 5, 'the inbound messages');
    assert.deepEqual(received, [{ seq: 10 }, large(11, 400), { seq: 12 }, large(13, 300), { seq: 14 }]);
  } finally {
    await codec.close();
  }
});
