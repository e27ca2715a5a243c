// The pieces of bulk offloading on their own: long strings out and back,
// the decoder's undecoded large bodies, and the codec worker.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../src/agent/transport/errors.js';
import { encodeFrame, FrameDecoder, LargeFrame } from '../../src/agent/transport/framing.js';
import { attachStrings, detachLongStrings, splitText } from '../../src/agent/transport/long-strings.js';
import { OffloadCodec } from '../../src/agent/transport/offload-codec.js';

const SMILE = '\u{1F600}'; // a surrogate pair in UTF-16

test('long strings come out and go back without touching the message, and the size bound holds', () => {
  const message = { type: 'snapshot', list: [1, 'x'.repeat(50), { deep: 'y'.repeat(200) }], data: 'z'.repeat(300), skip: undefined };
  const before = JSON.stringify(message);
  const detached = detachLongStrings(message, 100);
  assert.deepEqual(detached.paths, [['list', 2, 'deep'], ['data']]);
  assert.deepEqual(detached.strings, ['y'.repeat(200), 'z'.repeat(300)]);
  assert.equal(JSON.stringify(message), before, 'the original is unchanged');
  assert.equal(detached.skeleton.constructor, Object);
  assert.ok(detached.bytesAtLeast <= before.length, `${detached.bytesAtLeast} <= ${before.length}`);
  assert.ok(detached.bytesAtLeast > 500);

  const copy = structuredClone(detached.skeleton);
  attachStrings(copy, detached.paths, detached.strings);
  assert.equal(JSON.stringify(copy), before);
});

test('text is cut into pieces without splitting a surrogate pair', () => {
  const text = `ab${SMILE}cd${SMILE}${SMILE}e`;
  for (let size = 1; size <= text.length; size++) {
    const pieces = splitText(text, size);
    assert.equal(pieces.join(''), text);
    for (const piece of pieces) {
      assert.ok(piece.length <= Math.max(size, 2));
      assert.doesNotMatch(piece, /\p{Cs}/u, `piece ${JSON.stringify(piece)} of size ${size} splits a pair`);
    }
  }
});

test('a decoder hands large bodies over undecoded, in order with the small frames around them', () => {
  const small1 = { n: 1 };
  const large = { n: 2, data: 'q'.repeat(5000) };
  const small2 = { n: 3 };
  const stream = Buffer.concat([encodeFrame(small1), encodeFrame(large), encodeFrame(small2)]);
  for (const chunkSize of [1, 7, 4096, stream.length]) {
    const decoder = new FrameDecoder(1024 * 1024, 1000);
    const out: (object | LargeFrame)[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) {
      const { frames, error } = decoder.push(stream.subarray(i, i + chunkSize));
      assert.equal(error, null);
      out.push(...frames);
    }
    assert.equal(out.length, 3);
    assert.deepEqual(out[0], small1);
    assert.deepEqual(out[2], small2);
    const body = (out[1] as LargeFrame).body;
    assert.ok(out[1] instanceof LargeFrame);
    assert.equal(body.byteOffset, 0);
    assert.equal(body.byteLength, body.buffer.byteLength, 'the body owns its ArrayBuffer');
    assert.deepEqual(JSON.parse(body.toString()), large);
    assert.equal(decoder.pendingBytes, 0);
  }
});

test('the codec worker encodes and decodes in pieces, keeping every character', async () => {
  const codec = new OffloadCodec({ longStringChars: 100, pieceChars: 1000 });
  try {
    assert.equal(codec.running, false, 'started only on first use');
    const message = {
      type: 'snapshot',
      data: `${'é'.repeat(2500)}${SMILE.repeat(1200)}`,
      lone: `${'a'.repeat(150)}\ud800${'b'.repeat(150)}`, // an unpaired surrogate: no UTF-8 form
      meta: { index: 7, short: 'x' },
    };
    const frame = await codec.encode(detachLongStrings(message, codec.longStringChars), 1024 * 1024);
    assert.equal(codec.running, true);
    assert.deepEqual(frame, encodeFrame(message));
    const decoded = await codec.decode(frame.subarray(4));
    assert.deepEqual(decoded, message);
  } finally {
    await codec.close();
  }
  assert.equal(codec.running, false);
});

test('the codec worker reports too-large messages, malformed bodies, and being closed, with codes', async () => {
  const codec = new OffloadCodec({ longStringChars: 100 });
  const hasCode = (code: string) => (err: unknown) => err instanceof TransportError && err.code === code;
  try {
    const big = { data: '"'.repeat(600) }; // 600 chars, 1200 bytes once escaped
    await assert.rejects(codec.encode(detachLongStrings(big, codec.longStringChars), 1000), hasCode('E_FRAME_TOO_LARGE'));
    await assert.rejects(codec.decode(Buffer.from('[1, 2]')), hasCode('E_FRAME_MALFORMED'));
    await assert.rejects(codec.decode(Buffer.from([0x7b, 0xff, 0x7d])), hasCode('E_FRAME_MALFORMED'));
    assert.deepEqual(await codec.decode(Buffer.from('{"still":"working"}')), { still: 'working' });
  } finally {
    await codec.close();
  }
  await assert.rejects(codec.decode(Buffer.from('{}')), hasCode('E_WORKER_FAILED'));
});
