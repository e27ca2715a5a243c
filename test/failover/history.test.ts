// The outside observer's checker on hand-made histories: overlapping,
// touching, open-ended, several groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDualActive, judgeGroup, judgeHistory } from './history.js';
import type { Instance } from './history.js';

const run = (node: string, connectedAt: number, closedAt: number | null, group = 'g', pid = connectedAt + 1000): Instance => ({ group, node, pid, connectedAt, closedAt });

test('one after another with a gap: no dual-active, the gap is the smallest time between end and next start', () => {
  const v = judgeGroup('g', [run('n1', 0, 100), run('n2', 1400, 2000), run('n3', 2300, null)], 5000);
  assert.deepEqual(v.dualActive, []);
  assert.equal(v.smallestGapMs, 300);
  assert.equal(v.instances, 3);
});

test('overlapping instances are dual-active, both reported with nodes and the overlap in ms', () => {
  const v = judgeGroup('g', [run('n2', 1000, 3000), run('n1', 0, 1500)], 9000);
  assert.equal(v.dualActive.length, 1);
  const [d] = v.dualActive;
  assert.deepEqual([d?.first.node, d?.second.node, d?.overlapMs], ['n1', 'n2', 500]);
  assert.equal(v.smallestGapMs, -500);
  assert.match(describeDualActive(d as NonNullable<typeof d>), /g dual-active for 500\.0 ms: n1 pid 1000 \[0\.0, 1500\.0\) and n2 pid 2000 \[1000\.0, 3000\.0\)/);
});

test('an instance that closes exactly when the next connects touches it: not dual-active, gap 0', () => {
  const v = judgeGroup('g', [run('n1', 0, 1000), run('n2', 1000, null)], 2000);
  assert.deepEqual(v.dualActive, []);
  assert.equal(v.smallestGapMs, 0);
});

test('a still-active instance overlaps every later one; the overlap runs to now', () => {
  const v = judgeGroup('g', [run('n1', 0, null), run('n2', 700, 900), run('n3', 1200, null)], 2000);
  assert.deepEqual(v.dualActive.map((d) => [d.first.node, d.second.node, d.overlapMs]), [['n1', 'n2', 200], ['n1', 'n3', 800]]);
  assert.ok((v.smallestGapMs as number) < 0);
});

test('a short instance inside a long one is dual-active; gaps count from the latest end before', () => {
  const v = judgeGroup('g', [run('n1', 0, 1000), run('n2', 200, 300), run('n3', 1100, 1200)], 2000);
  assert.deepEqual(v.dualActive.map((d) => [d.first.node, d.second.node, d.overlapMs]), [['n1', 'n2', 100]]);
  // n2 started 800 ms before n1 ended; n3 started 100 ms after n1 ended (800 ms after n2, which does not count).
  assert.equal(v.smallestGapMs, -800);
});

test('a restart on the same node after the old instance ended is no overlap', () => {
  const v = judgeGroup('g', [run('n1', 0, 500), run('n1', 520, null)], 1000);
  assert.deepEqual(v.dualActive, []);
  assert.equal(v.smallestGapMs, 20);
});

test('groups are judged apart; one instance has no gap', () => {
  const verdicts = judgeHistory([run('n1', 0, null, 'a'), run('n2', 0, null, 'b'), run('n3', 10, 20, 'b')], 100);
  assert.deepEqual(verdicts.map((v) => [v.group, v.instances, v.dualActive.length, v.smallestGapMs]), [['a', 1, 0, null], ['b', 2, 1, -90]]);
});
