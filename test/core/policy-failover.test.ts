import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailoverTracker } from '../../src/agent/core/policy-failover.js';
import type { FailoverPolicy, FailoverVerdict } from '../../src/agent/core/policy-failover.js';

const FAILOVER: FailoverVerdict = { action: 'failover' };
const held = (retryAt: number): FailoverVerdict => ({ action: 'stay-failed', retryAt });

test('failover policy: a threshold within a sliding period, then held Failed until the retry', () => {
  const cases: { name: string; policy: FailoverPolicy; failures: [number, FailoverVerdict][] }[] = [
    {
      name: 'two failovers, the third failure holds; failures while held keep the same retry time',
      policy: { failoverThreshold: 2, failoverPeriod: 1000, failoverRetry: 5000 },
      failures: [[0, FAILOVER], [10, FAILOVER], [20, held(5020)], [6000, held(5020)]],
    },
    {
      name: 'the period slides: a failover exactly one period old no longer counts',
      policy: { failoverThreshold: 2, failoverPeriod: 1000, failoverRetry: 5000 },
      failures: [[0, FAILOVER], [10, FAILOVER], [1000, FAILOVER], [1005, held(6005)]],
    },
    { name: 'threshold 0: held at the first failure', policy: { failoverThreshold: 0, failoverPeriod: 1000, failoverRetry: 5000 }, failures: [[7, held(5007)]] },
  ];
  for (const c of cases) {
    const tracker = new FailoverTracker(c.policy);
    for (const [now, want] of c.failures) assert.deepEqual(tracker.onGroupFailed(now), want, `${c.name} at ${now}`);
  }
});

test('failover policy: the hold ends by cleanup or when the retry is due; the threshold starts afresh', () => {
  const tracker = new FailoverTracker({ failoverThreshold: 1, failoverPeriod: 60_000, failoverRetry: 5000 });
  assert.equal(tracker.heldUntil(), null);
  assert.deepEqual(tracker.onGroupFailed(0), FAILOVER);
  assert.deepEqual(tracker.onGroupFailed(100), held(5100));
  const due: [number, boolean][] = [[100, false], [5099, false], [5100, true], [9000, true]];
  for (const [now, want] of due) assert.equal(tracker.retryDue(now), want, String(now));
  tracker.cleanup();
  assert.equal(tracker.heldUntil(), null);
  assert.equal(tracker.retryDue(9000), false);
  assert.deepEqual(tracker.onGroupFailed(9000), FAILOVER, 'a fresh threshold after cleanup');
  assert.deepEqual(tracker.onGroupFailed(9001), held(14_001));
});

test('failover policy: the group\'s own retry period, read again while held, so a change applies to the hold in progress', () => {
  const policy: FailoverPolicy = { failoverThreshold: 0, failoverPeriod: 1000, failoverRetry: 3_600_000 };
  const tracker = new FailoverTracker(policy);
  assert.deepEqual(tracker.onGroupFailed(42), held(42 + 3_600_000));
  tracker.policy = { ...policy, failoverRetry: 3000 };
  assert.equal(tracker.heldUntil(), 3042, 'from when the hold began');
  assert.deepEqual(tracker.onGroupFailed(100), held(3042));
  assert.equal(tracker.retryDue(3041), false);
  assert.equal(tracker.retryDue(3042), true);
  tracker.policy = { ...policy, failoverRetry: 1000 };
  assert.equal(tracker.retryDue(1100), true, 'set shorter than the time held: due at once');
});
