import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, fnv1a64 } from '../../src/agent/db/canonical.js';

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
