// Small batches of seeds pass with no bug, and exercise what they claim to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeeds } from './batch.js';

test('seeds 1..20 pass every checker', () => {
  const b = runSeeds({ start: 1, count: 20 });
  assert.deepEqual(b.failures, []);
  assert.equal(b.seeds, 20);
  const s = b.stats;
  assert.ok(s.elections >= 20, `${s.elections} elections`);
  assert.ok(s.writesAcked > 0 && s.readsServed > 0, `${s.writesAcked} writes acknowledged, ${s.readsServed} reads served`);
  assert.ok(s.crashes > 0 && s.partitions > 0 && s.messagesDropped > 0, 'faults were injected');
  // About half the seeds run the resource world.
  assert.ok(s.resourceRuns >= 4 && s.resourceRuns <= 16, `${s.resourceRuns} resource runs`);
  assert.ok(s.processStarts > 0 && s.pauses > 0, `${s.processStarts} process starts, ${s.pauses} pauses`);
});

test('seeds 1..20 with the resource world on every one pass, and groups converge after healing', () => {
  const b = runSeeds({ start: 1, count: 20, resources: true });
  assert.deepEqual(b.failures, []);
  const s = b.stats;
  assert.equal(s.resourceRuns, 20);
  assert.ok(s.processStarts >= 20 && s.processDeaths > 0 && s.pauses > 0, JSON.stringify(s));
  assert.ok(s.groupsConvergedMs > 0, 'every run converged within the bound, after some time');
});
