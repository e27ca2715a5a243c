import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs } from '../../src/agent/guard/clock.js';
import { DeadlineTimer } from '../../src/agent/guard/deadline-timer.js';
import { parseGuardRequest } from '../../src/agent/guard/guard-protocol.js';
import { distribution } from '../../src/agent/guard/measure.js';
import { WatchdogFeeder, mayFeedWatchdog } from '../../src/agent/guard/watchdog.js';
import { waitFor } from './helpers.js';

test('guard requests: valid ones parse, invalid ones name every bad field', () => {
  const cases: [string, string[] | 'ok'][] = [
    ['{"op":"lease","deadlineMs":123.5,"groups":["web","db"]}', 'ok'],
    ['{"op":"lease","id":7,"deadlineMs":100,"leaseEndMs":200,"groups":[]}', 'ok'],
    ['{"op":"stop-group","id":"a","group":"web"}', 'ok'],
    ['{"op":"status"}', 'ok'],
    ['not json', ['']],
    ['[1]', ['']],
    ['{"op":"reboot"}', ['op']],
    ['{"op":"lease","deadlineMs":"soon","groups":["../x","web","web"],"extra":1}', ['extra', 'deadlineMs', 'groups[0]', 'groups']],
    ['{"op":"lease","deadlineMs":100,"leaseEndMs":50,"groups":[]}', ['leaseEndMs']],
    ['{"op":"lease","deadlineMs":100}', ['groups']],
    ['{"op":"stop-group","group":"cgroup.procs"}', ['group']],
    ['{"op":"stop-group"}', ['group']],
    ['{"op":"status","id":{"x":1}}', ['id']],
  ];
  for (const [line, expected] of cases) {
    const parsed = parseGuardRequest(line);
    if (expected === 'ok') assert.equal(parsed.ok, true, line);
    else {
      assert.equal(parsed.ok, false, line);
      if (!parsed.ok) assert.deepEqual(parsed.problems.map((p) => p.field ?? ''), expected, line);
    }
  }
  const refused = parseGuardRequest('{"op":"stop-group","id":9}');
  assert.equal(!refused.ok && refused.id, 9, 'a refused request still echoes its id');
});

test('mayFeedWatchdog: always with no group running, else only with a full watchdog period of lease left', () => {
  const cases: [now: number, leaseEnd: number, running: boolean, timeout: number, feed: boolean][] = [
    [0, -Infinity, false, 1000, true],
    [0, -Infinity, true, 1000, false],
    [0, 5000, true, 1000, true],
    [4000, 5000, true, 1000, true],
    [4001, 5000, true, 1000, false],
    [6000, 5000, true, 1000, false],
    [6000, 5000, false, 1000, true],
  ];
  for (const [now, leaseEnd, running, timeout, feed] of cases) assert.equal(mayFeedWatchdog(now, leaseEnd, running, timeout), feed, JSON.stringify([now, leaseEnd, running]));
});

test('distribution: nearest-rank percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(distribution(values), { samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  assert.deepEqual(distribution([3]), { samples: 1, p50Ms: 3, p99Ms: 3, maxMs: 3 });
});

test('the deadline timer acts once, never before the deadline by the monotonic clock; a later deadline replaces it; null cancels', async () => {
  const fired: { deadline: number; now: number }[] = [];
  let deadline = monotonicMs() + 20;
  const timer = new DeadlineTimer((now) => fired.push({ deadline, now }), { nearMs: 15, tickMs: 5 });
  timer.set(deadline);
  deadline = monotonicMs() + 60;
  timer.set(deadline);
  await waitFor(() => fired.length > 0, 5000, 'the timer');
  assert.equal(fired.length, 1);
  assert.ok((fired[0]?.now ?? 0) >= (fired[0]?.deadline ?? Infinity), 'acted at or after the replaced deadline');
  assert.equal(timer.get(), null);

  const cancelled = new DeadlineTimer(() => assert.fail('cancelled timer fired'));
  cancelled.set(monotonicMs() + 10);
  cancelled.set(null);
  await sleep(40);

  let pastNow = 0;
  new DeadlineTimer((now) => (pastNow = now)).set(monotonicMs() - 5);
  assert.ok(pastNow > 0, 'a deadline already past acts at once');
});

test('the watchdog feeder writes only while the policy allows, and disarms with V', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-guard-'));
  const device = join(dir, 'watchdog');
  await writeFile(device, '');
  let state = { leaseEnd: monotonicMs() + 60_000, groupsRunning: true };
  const feeder = new WatchdogFeeder(device, 1000, async () => state, monotonicMs, 5);
  try {
    feeder.start();
    await waitFor(() => feeder.fed >= 3, 5000, 'three feeds');
    state = { leaseEnd: monotonicMs() + 500, groupsRunning: true };
    await sleep(20);
    const fedNearEnd = feeder.fed;
    await sleep(50);
    assert.equal(feeder.fed, fedNearEnd, 'no feeding with less than T_wd of lease left while groups run');
    state = { leaseEnd: -Infinity, groupsRunning: false };
    await waitFor(() => feeder.fed > fedNearEnd, 5000, 'feeding again once no group runs');
    feeder.stop(true);
    const written = await readFile(device, 'utf8');
    assert.equal(written.length, feeder.fed + 1);
    assert.ok(written.endsWith('V'));
    const missing = join(dir, 'missing');
    assert.throws(() => new WatchdogFeeder(missing, 1000, async () => state, monotonicMs).start(), /E_WATCHDOG|cannot open watchdog/);
    await assert.rejects(access(missing), 'a missing device is never created');
  } finally {
    feeder.stop(false);
    await rm(dir, { recursive: true, force: true });
  }
});
