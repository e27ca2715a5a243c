import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/agent/store/crc32c.js';

test('crc32c matches the standard check value and the RFC 3720 vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('crc32c continues across chunks of every alignment', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, then does it again.');
  const whole = crc32c(data);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut at ${cut}`);
  }
});

test('crc32c changes when any single bit flips', () => {
  const data = Buffer.from('a log record payload');
  const original = crc32c(data);
  for (let bit = 0; bit < data.length * 8; bit++) {
    const copy = Buffer.from(data);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    assert.notEqual(crc32c(copy), original);
  }
});
