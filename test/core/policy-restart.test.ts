import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartTracker } from '../../src/agent/core/policy-restart.js';
import type { RestartVerdict } from '../../src/agent/core/policy-restart.js';
import type { RestartPolicy, RestartSettings } from '../../src/agent/db/schema.js';

const restartAt = (at: number): RestartVerdict => ({ action: 'restart', at });
const FAILOVER: RestartVerdict = { action: 'failover' };
const STAY: RestartVerdict = { action: 'stay-failed' };

test('restart policy: restarts within a sliding window, each after the delay, then fail over', () => {
  const cases: { name: string; policy: RestartPolicy; failGroupOver?: boolean; failures: [number, RestartVerdict][] }[] = [
    {
      name: 'three restarts, the fourth failure in the period fails over',
      policy: { maxRestarts: 3, period: 1000, delay: 100 },
      failures: [[0, restartAt(100)], [10, restartAt(110)], [20, restartAt(120)], [30, FAILOVER]],
    },
    {
      name: 'the window slides: a restart exactly one period old no longer counts',
      policy: { maxRestarts: 3, period: 1000, delay: 100 },
      failures: [[0, restartAt(100)], [10, restartAt(110)], [20, restartAt(120)], [999, FAILOVER], [1000, restartAt(1100)], [1005, FAILOVER], [1010, restartAt(1110)]],
    },
    {
      name: 'a resource that fails once per period is restarted every time',
      policy: { maxRestarts: 1, period: 1000, delay: 0 },
      failures: [[0, restartAt(0)], [1000, restartAt(1000)], [2000, restartAt(2000)], [2999, FAILOVER]],
    },
    { name: 'no restarts allowed: fail over at once', policy: { maxRestarts: 0, period: 1000, delay: 100 }, failures: [[5, FAILOVER], [5000, FAILOVER]] },
    {
      name: 'a resource that must not move its group stays Failed',
      policy: { maxRestarts: 1, period: 1000, delay: 100 },
      failGroupOver: false,
      failures: [[0, restartAt(100)], [50, STAY]],
    },
  ];
  for (const c of cases) {
    const tracker = new RestartTracker({ ...c.policy, failGroupOver: c.failGroupOver ?? true });
    for (const [now, want] of c.failures) assert.deepEqual(tracker.onResourceFailed(now), want, `${c.name} at ${now}`);
  }
});

test('restart policy: a changed policy applies from the next failure', () => {
  const policy = (p: RestartPolicy, failGroupOver = true): RestartSettings => ({ ...p, failGroupOver });
  const tracker = new RestartTracker(policy({ maxRestarts: 1, period: 10_000, delay: 100 }));
  assert.deepEqual(tracker.onResourceFailed(0), restartAt(100));
  tracker.policy = policy({ maxRestarts: 2, period: 10_000, delay: 500 });
  assert.deepEqual(tracker.onResourceFailed(10), restartAt(510));
  assert.equal(tracker.restartsInWindow(10), 2);
  assert.deepEqual(tracker.onResourceFailed(11), FAILOVER);
  tracker.policy = policy({ maxRestarts: 2, period: 10_000, delay: 500 }, false);
  assert.deepEqual(tracker.onResourceFailed(12), STAY, 'failGroupOver changed to false');
  tracker.policy = policy({ maxRestarts: 2, period: 5, delay: 500 });
  assert.equal(tracker.restartsInWindow(14), 1);
  assert.equal(tracker.restartsInWindow(15), 0);
});
