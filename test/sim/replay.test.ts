// A seed replays exactly: the same trace, hashed, twice; another seed differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './world.js';

test('the same seed twice yields an identical trace', () => {
  const a = runSeed({ seed: 7, trace: true });
  const b = runSeed({ seed: 7, trace: true });
  assert.ok(a.traceLines > 100, `a trace of ${a.traceLines} lines is too short to mean much`);
  assert.equal(a.traceHash, b.traceHash);
  assert.equal(a.traceLines, b.traceLines);
  assert.deepEqual(a.stats, b.stats);
  const other = runSeed({ seed: 8, trace: true });
  assert.notEqual(other.traceHash, a.traceHash);
});

test('a run with the resource world replays exactly too, and tracing does not change it', () => {
  const a = runSeed({ seed: 7, trace: true, resources: true });
  const b = runSeed({ seed: 7, trace: true, resources: true });
  assert.ok(a.stats.processStarts > 0, 'resources ran');
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.stats, b.stats);
  assert.notEqual(a.traceHash, runSeed({ seed: 7, trace: true, resources: false }).traceHash);
  assert.deepEqual(runSeed({ seed: 7, resources: true }).stats, a.stats);
});

test('tracing does not change the run', () => {
  const traced = runSeed({ seed: 11, trace: true });
  const plain = runSeed({ seed: 11 });
  assert.deepEqual(plain.stats, traced.stats);
  assert.equal(plain.traceHash, 0);
});
