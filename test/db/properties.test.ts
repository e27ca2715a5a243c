import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTiming, propertyDefaults } from '../../src/agent/db/properties.js';
import { ReportSink } from '../../src/agent/db/report.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';
import { DbError } from '../../src/agent/db/report.js';
import type { Profile } from '../../src/agent/db/properties.js';
import { Harness, errorCodes, runCases } from './fixture.js';

test('defaults are those of ARCHITECTURE.md (profile lan)', () => {
  const p = new ClusterDatabase().getProperties();
  assert.deepEqual(p, {
    heartbeatInterval: 100, electionTimeoutMin: 300, nodeLease: 1000, leaderLease: 240, clockRateBound: 0.1,
    guardLatency: 50, killTime: 50, rttBudget: 2, fencing: 'none', profile: 'lan', historyLimit: 10_000,
  });
});

test('every profile satisfies the timing rules', () => {
  for (const profile of ['lan', 'wan', 'fast'] as Profile[]) {
    const sink = new ReportSink(false);
    checkTiming(propertyDefaults(profile), sink);
    assert.deepEqual(sink.reports, [], profile);
  }
});

test('unknown property keys are refused with a hint', () => {
  const db = new ClusterDatabase();
  assert.equal(db.getProperty('nodeLease'), 1000);
  assert.throws(
    () => db.getProperty('nodeLeas' as 'nodeLease'),
    (e: unknown) => e instanceof DbError && e.code === 'E_UNKNOWN_PROPERTY' && e.reports[0]?.hint === "did you mean 'nodeLease'?",
  );
});

test('the profile changes defaults; an explicit value wins; null returns to the default', () => {
  const h = new Harness();
  // A profile changes every timing at once: only forced, for a cluster whose agents all restart together.
  assert.deepEqual(errorCodes(h.validate({ type: 'property.set', values: { profile: 'wan' } })), ['E_UNSAFE_TIMING_CHANGE']);
  h.must({ type: 'property.set', values: { profile: 'wan' } }, { force: true });
  assert.equal(h.db.getProperty('nodeLease'), 3500);
  h.must({ type: 'property.set', values: { nodeLease: '4s' } });
  h.must({ type: 'property.set', values: { profile: 'lan', heartbeatInterval: 100 } }, { force: true });
  assert.equal(h.db.getProperty('nodeLease'), 4000);
  assert.deepEqual(h.db.getExplicitProperties(), { nodeLease: 4000, profile: 'lan', heartbeatInterval: 100 });
  h.must({ type: 'property.set', values: { nodeLease: null, heartbeatInterval: null } });
  assert.equal(h.db.getProperty('nodeLease'), 1000);
  assert.deepEqual(h.db.getExplicitProperties(), { profile: 'lan' });
});

runCases('property.set', [
  {
    name: 'several keys at once, durations as text or ms (forced: a mix of old and new timing breaks the rules)',
    cmd: { type: 'property.set', values: { heartbeatInterval: '50ms', electionTimeoutMin: 200, leaderLease: '150ms', fencing: 'watchdog' } },
    force: true,
    errors: [],
    warnings: ['E_UNSAFE_TIMING_CHANGE'],
    then: (h) => {
      const p = h.db.getProperties();
      assert.deepEqual([p.heartbeatInterval, p.electionTimeoutMin, p.leaderLease, p.fencing], [50, 200, 150, 'watchdog']);
    },
  },
  { name: 'ratio', cmd: { type: 'property.set', values: { clockRateBound: '0.05' } }, errors: [] },
  {
    // A follower still on E_min 300 ms while the leader holds the new 280 ms leader lease: both leases could overlap.
    name: 'two timings whose mix is unsafe while nodes take them up',
    cmd: { type: 'property.set', values: { electionTimeoutMin: '400ms', leaderLease: '280ms', nodeLease: '1300ms' } },
    errors: ['E_UNSAFE_TIMING_CHANGE'],
  },
  { name: 'two timings whose every mix is safe', cmd: { type: 'property.set', values: { guardLatency: '40ms', killTime: '40ms' } }, errors: [] },
  { name: 'unknown key', cmd: { type: 'property.set', values: { heartbeat: '1s' } }, errors: ['E_UNKNOWN_PROPERTY'] },
  {
    name: 'every bad value is reported at once',
    cmd: { type: 'property.set', values: { heartbeatInterval: '5', nodeLease: '10h', fencing: 'stonith', historyLimit: 1.5, bogus: 1 } },
    errors: ['E_INVALID_DURATION', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_UNKNOWN_PROPERTY'],
  },
  { name: 'values must name something', cmd: { type: 'property.set', values: {} }, errors: ['E_REQUIRED'] },
  { name: 'values missing', cmd: { type: 'property.set' }, errors: ['E_REQUIRED'] },
  {
    name: 'election timeout below three heartbeats, and the leases that follow from it',
    cmd: { type: 'property.set', values: { heartbeatInterval: '200ms' } },
    errors: ['E_UNSAFE_TIMING', 'E_UNSAFE_TIMING'],
  },
  { name: 'leader lease too long for the election timeout', cmd: { type: 'property.set', values: { leaderLease: '250ms' } }, errors: ['E_UNSAFE_TIMING'] },
  { name: 'node lease too short to outlive an election', cmd: { type: 'property.set', values: { nodeLease: '900ms' } }, errors: ['E_UNSAFE_TIMING'] },
  { name: 'a larger clock-rate bound tightens both leases', cmd: { type: 'property.set', values: { clockRateBound: 0.2 } }, errors: ['E_UNSAFE_TIMING', 'E_UNSAFE_TIMING'] },
  {
    name: 'fencing none while a disk resource mounts a filesystem is forceable',
    forcedSetup: [{ type: 'resource.set', name: 'disk1', parameters: { mountpoint: '/srv/data' } }],
    setup: [{ type: 'property.set', values: { fencing: 'watchdog' } }],
    cmd: { type: 'property.set', values: { fencing: 'none' } },
    errors: ['E_FENCING_REQUIRED'],
  },
  {
    name: 'fencing none forced',
    setup: [{ type: 'property.set', values: { fencing: 'watchdog' } }, { type: 'resource.set', name: 'disk1', parameters: { mountpoint: '/srv/data' } }],
    cmd: { type: 'property.set', values: { fencing: 'none' } },
    force: true,
    errors: [],
    warnings: ['E_FENCING_REQUIRED'],
  },
]);
