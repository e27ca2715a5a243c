// The heartbeat-gap metric of agent.status: gaps between successive
// heartbeats of one leader in one term, over the last 10-20 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatGapMonitor } from '../../src/agent/node/heartbeat-gaps.js';

test('gaps are counted between heartbeats of the same leader and term only', () => {
  const m = new HeartbeatGapMonitor(0);
  assert.deepEqual(m.figures(0), { p99Ms: null, maxMs: null, count: 0 });
  m.observe('a', 1, 100);
  m.observe('a', 1, 200);
  m.observe('a', 1, 350);
  // A new term (an election) and a new leader start over: the silence between is no gap.
  m.observe('a', 2, 2000);
  m.observe('b', 2, 2100);
  m.observe('b', 2, 2201.234);
  assert.deepEqual(m.figures(2300), { p99Ms: 150, maxMs: 150, count: 3 });
});

test('p99 is the nearest-rank percentile: one long gap among a hundred shows in max, not p99', () => {
  const m = new HeartbeatGapMonitor(0);
  let t = 0;
  m.observe('a', 1, t);
  for (let i = 0; i < 99; i++) m.observe('a', 1, (t += 100));
  m.observe('a', 1, (t += 900));
  assert.deepEqual(m.figures(t), { p99Ms: 100, maxMs: 900, count: 100 });
  m.observe('a', 1, (t += 700));
  assert.deepEqual(m.figures(t), { p99Ms: 700, maxMs: 900, count: 101 });
});

test('figures cover the current and the previous 10 s window; older gaps are forgotten', () => {
  const m = new HeartbeatGapMonitor(0);
  m.observe('a', 1, 1000);
  m.observe('a', 1, 1500);
  // Next window: the 500 ms gap is still shown.
  m.observe('a', 1, 10_100);
  m.observe('a', 1, 10_200);
  assert.deepEqual(m.figures(10_300), { p99Ms: 8600, maxMs: 8600, count: 3 });
  // Two windows on, only the gaps seen in 10-20 s are left.
  m.observe('a', 1, 20_050);
  assert.deepEqual(m.figures(20_100), { p99Ms: 9850, maxMs: 9850, count: 3 });
  // Long silence: nothing is left.
  assert.deepEqual(m.figures(60_000), { p99Ms: null, maxMs: null, count: 0 });
});
