// A small batch of seeds passes with no bug, and exercises what it claims to.
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
});
