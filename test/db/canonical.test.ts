import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDigest, canonicalJson, fnv1a64 } from '../../src/agent/db/canonical.js';

test('canonical JSON sorts keys at every level and drops undefined members', () => {
  const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined };
  const b = { a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 };
  assert.equal(canonicalJson(a), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(canonicalJson([undefined, null, true, 'é\n']), '[null,null,true,"é\\n"]');
  assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { k: 1 })), '{"k":1}');
});

test('canonical JSON refuses what JSON would silently change', () => {
  for (const bad of [NaN, Infinity, new Map(), new Date(0), () => 1, 1n]) {
    assert.throws(() => canonicalJson({ x: bad }), TypeError);
  }
});

test('FNV-1a 64 matches the published test vectors', () => {
  assert.equal(fnv1a64(''), 'cbf29ce484222325');
  assert.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
  assert.equal(fnv1a64('foobar'), '85944171f73967e8');
  // UTF-8: 'é' is two bytes.
  assert.notEqual(fnv1a64('é'), fnv1a64('\u00e9\u0000'));
  assert.notEqual(fnv1a64('{"a":1}'), fnv1a64('{"a":2}'));
});

/** Pinned when fcm-db/4 was introduced: a change here would make nodes of two fcm versions refuse each other's snapshots. */
const FIXED_EMPTY = 'ab3e7c0b3a809898';
const FIXED_FOOBAR = '0c0da6dc2abd26bb';

test('TextDigest: the same text gives the same 16 hex digits however it is fed; any change gives others', () => {
  const digestOf = (...pieces: string[]): string => {
    const digest = new TextDigest();
    for (const piece of pieces) digest.update(piece);
    return digest.hex();
  };
  const text = '{"a":1}\n{"b":"é"}\n';
  const whole = digestOf(text);
  assert.match(whole, /^[0-9a-f]{16}$/);
  assert.equal(digestOf('{"a":1}\n', '{"b":"é"}\n'), whole);
  const ranged = new TextDigest();
  ranged.update(`xx${text}yy`, 2, 2 + text.length);
  assert.equal(ranged.hex(), whole);
  // Fixed values: every node, on every version of fcm that writes fcm-db/4, must agree.
  assert.equal(digestOf(''), FIXED_EMPTY);
  assert.equal(digestOf('foobar'), FIXED_FOOBAR);
  // Every one-character change, swaps and an added character are seen.
  const seen = new Set([whole]);
  for (let i = 0; i < text.length; i++) seen.add(digestOf(text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1)));
  seen.add(digestOf('{"b":"é"}\n{"a":1}\n'));
  seen.add(digestOf(`${text}\n`));
  assert.equal(seen.size, text.length + 3);
});
