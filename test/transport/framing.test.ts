import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../src/agent/transport/backoff.js';
import { TransportError } from '../../src/agent/transport/errors.js';
import { encodeFrame, FrameDecoder } from '../../src/agent/transport/framing.js';

function header(length: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(length, 0);
  return out;
}

function rawFrame(body: Buffer): Buffer {
  return Buffer.concat([header(body.length), body]);
}

test('a frame fed one byte at a time decodes once, when its last byte arrives', () => {
  const message = { type: 'heartbeat', commit: 7, round: 3, note: 'héllo ✓' };
  const frame = encodeFrame(message);
  const decoder = new FrameDecoder();
  const seen: object[] = [];
  for (let i = 0; i < frame.length; i++) {
    const { frames, error } = decoder.push(frame.subarray(i, i + 1));
    assert.equal(error, null);
    if (i < frame.length - 1) assert.equal(frames.length, 0);
    seen.push(...frames);
  }
  assert.deepEqual(seen, [message]);
  assert.equal(decoder.pendingBytes, 0);
});

test('many frames in one chunk, with the last one split across chunks', () => {
  const messages = Array.from({ length: 100 }, (_, i) => ({ n: i }));
  const all = Buffer.concat(messages.map((m) => encodeFrame(m)));
  const decoder = new FrameDecoder();
  const cut = all.length - 3; // inside the last frame's body
  const first = decoder.push(all.subarray(0, cut));
  assert.equal(first.frames.length, 99);
  const second = decoder.push(all.subarray(cut));
  assert.deepEqual([...first.frames, ...second.frames], messages);
});

test('a header split across chunks is reassembled', () => {
  const frame = encodeFrame({ a: 1 });
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(frame.subarray(0, 2)).frames, []);
  assert.deepEqual(decoder.push(frame.subarray(2)).frames, [{ a: 1 }]);
});

test('a declared length over the maximum is refused from the header alone', () => {
  const decoder = new FrameDecoder(1024);
  const { frames, error } = decoder.push(header(1025));
  assert.deepEqual(frames, []);
  assert.equal(error?.code, 'E_FRAME_TOO_LARGE');
});

test('malformed frames are refused with E_FRAME_MALFORMED', () => {
  const cases: Record<string, Buffer> = {
    'zero length': header(0),
    'invalid JSON': rawFrame(Buffer.from('{"a":')),
    'invalid UTF-8': rawFrame(Buffer.from([0x22, 0xff, 0xfe, 0x22])),
    'a JSON array': rawFrame(Buffer.from('[1,2]')),
    'a JSON number': rawFrame(Buffer.from('42')),
    'JSON null': rawFrame(Buffer.from('null')),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const { error } = new FrameDecoder().push(bytes);
    assert.equal(error?.code, 'E_FRAME_MALFORMED', name);
  }
});

test('frames before a bad one are delivered; the decoder then stays failed', () => {
  const decoder = new FrameDecoder();
  const chunk = Buffer.concat([encodeFrame({ ok: 1 }), rawFrame(Buffer.from('nope')), encodeFrame({ ok: 2 })]);
  const { frames, error } = decoder.push(chunk);
  assert.deepEqual(frames, [{ ok: 1 }]);
  assert.equal(error?.code, 'E_FRAME_MALFORMED');
  const later = decoder.push(encodeFrame({ ok: 3 }));
  assert.deepEqual(later.frames, []);
  assert.equal(later.error?.code, 'E_FRAME_MALFORMED');
});

test('encoding a message over the maximum throws E_FRAME_TOO_LARGE', () => {
  assert.throws(
    () => encodeFrame({ blob: 'x'.repeat(2000) }, 1000),
    (err: unknown) => err instanceof TransportError && err.code === 'E_FRAME_TOO_LARGE',
  );
  assert.equal(encodeFrame({ blob: 'x'.repeat(900) }, 1000).length > 900, true);
});

test('backoff grows by the factor, is capped, and jitter stays within [ceiling/2, ceiling)', () => {
  const policy = { initialMs: 50, maxMs: 2000, factor: 2 };
  const low = () => 0;
  const high = () => 0.999999;
  assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelayMs(a, policy, low)), [25, 50, 100, 200]);
  assert.equal(backoffDelayMs(10, policy, low), 1000);
  assert.equal(backoffDelayMs(1000, policy, low), 1000);
  assert.ok(backoffDelayMs(10, policy, high) < 2000);
  assert.ok(backoffDelayMs(10, policy, high) > 1999);
});
