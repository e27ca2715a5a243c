import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDuration, formatWitnessSpec, isAbsolutePath, isKeyFingerprint, isSshPublicKey, parseAddress, parseDuration,
  parseWitnessSpec, validateName,
} from '../../src/agent/db/names.js';
import { closest, didYouMean } from '../../src/agent/db/suggest.js';

test('names: letters, digits, - _ . and 1..63 characters, starting with a letter or digit', () => {
  const cases: [unknown, boolean][] = [
    ['web', true], ['web-1', true], ['db_primary.2', true], ['A', true], ['9lives', true], ['x'.repeat(63), true],
    ['', false], ['x'.repeat(64), false], ['-web', false], ['.hidden', false], ['_x', false], ['web 1', false],
    ['web/1', false], ['wéb', false], ['web:1', false], [42, false], [null, false],
  ];
  for (const [name, ok] of cases) {
    const report = validateName(name, 'group', 'name');
    assert.equal(report === null, ok, `${JSON.stringify(name)}: ${report?.message}`);
    if (report) {
      assert.equal(report.code, 'E_INVALID_NAME');
      assert.equal(report.field, 'name');
    }
  }
});

test('durations: 500ms, 5s, 10m, 1h become milliseconds', () => {
  const good: [string, number][] = [['500ms', 500], ['5s', 5000], ['10m', 600_000], ['1h', 3_600_000], ['0ms', 0], [' 2s ', 2000]];
  for (const [text, ms] of good) assert.deepEqual(parseDuration(text), { ok: true, ms }, text);
  for (const text of ['5', '5 s', '1.5s', '-1s', '5d', 's', '', '1e3ms', '999999999999999h']) {
    const result = parseDuration(text, 'f');
    assert.equal(result.ok, false, text);
    if (!result.ok) {
      assert.equal(result.report.code, 'E_INVALID_DURATION');
      assert.equal(result.report.field, 'f');
      assert.ok(result.report.hint);
    }
  }
});

test('durations format to the largest exact unit', () => {
  const cases: [number, string][] = [[0, '0ms'], [1500, '1500ms'], [2000, '2s'], [90_000, '90s'], [600_000, '10m'], [7_200_000, '2h']];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.deepEqual(parseDuration(text), { ok: true, ms });
  }
});

test('addresses are host:port', () => {
  assert.deepEqual(parseAddress('10.0.0.1:2222'), { host: '10.0.0.1', port: 2222 });
  assert.deepEqual(parseAddress('node-1.example.com:22'), { host: 'node-1.example.com', port: 22 });
  assert.deepEqual(parseAddress('[fd00::1]:2222'), { host: '[fd00::1]', port: 2222 });
  for (const bad of ['10.0.0.1', '10.0.0.1:0', '10.0.0.1:65536', ':22', 'a b:22', 'fd00::1:22', 'host:port']) {
    assert.equal(parseAddress(bad), null, bad);
  }
});

test('key formats, paths and witness specs', () => {
  assert.ok(isSshPublicKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabc me@host'));
  assert.ok(!isSshPublicKey('ssh-dss AAAAC3NzaC1lZDI1NTE5AAAAIabc'));
  assert.ok(!isSshPublicKey('ssh-ed25519'));
  assert.ok(isKeyFingerprint(`SHA256:${'a'.repeat(43)}`));
  assert.ok(!isKeyFingerprint(`MD5:${'a'.repeat(43)}`));
  assert.ok(isAbsolutePath('/dev/sdb'));
  for (const bad of ['dev/sdb', '/a/../b', '/a/./b', '/a\0b']) assert.ok(!isAbsolutePath(bad), bad);
  assert.deepEqual(parseWitnessSpec('disk:/dev/sdc'), { kind: 'disk', path: '/dev/sdc' });
  assert.deepEqual(parseWitnessSpec('share:/mnt/witness'), { kind: 'share', dir: '/mnt/witness' });
  for (const bad of ['disk:', 'disk:relative', 'nfs:/x', '/dev/sdc']) assert.equal(parseWitnessSpec(bad), null, bad);
  assert.equal(formatWitnessSpec({ kind: 'share', dir: '/mnt/w' }), 'share:/mnt/w');
});

test('did-you-mean finds typos and prefixes, and nothing for unrelated words', () => {
  const keys = ['heartbeatInterval', 'electionTimeoutMin', 'nodeLease', 'leaderLease', 'fencing'];
  assert.equal(closest('heartbeatIntervall', keys), 'heartbeatInterval');
  assert.equal(closest('HEARTBEATINTERVAL', keys), 'heartbeatInterval');
  assert.equal(closest('heartbeat', keys), 'heartbeatInterval');
  assert.equal(closest('fencng', keys), 'fencing');
  assert.equal(closest('colour', keys), undefined);
  assert.equal(didYouMean('nodelease', keys), "did you mean 'nodeLease'?");
});
