import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRaftConfig, raftProfiles, validateRaftConfig } from '../../src/agent/consensus/config.js';
import type { RaftConfig } from '../../src/agent/consensus/config.js';

const codes = (c: RaftConfig) => validateRaftConfig(c).map((p) => `${p.code}:${p.field}`).sort();

test('the default and every profile are valid', () => {
  assert.deepEqual(codes(defaultRaftConfig), []);
  for (const [name, c] of Object.entries(raftProfiles)) assert.deepEqual(codes(c), [], name);
});

const cases: { name: string; change: Partial<RaftConfig>; expect: string[] }[] = [
  { name: 'E_min below 3 heartbeats', change: { electionTimeoutMinMs: 250 }, expect: ['E_ELECTION_TIMEOUT_TOO_SHORT:electionTimeoutMinMs', 'E_LEADER_LEASE_TOO_LONG:leaderLeaseMs'] },
  { name: 'lease just over the bound', change: { leaderLeaseMs: 246 }, expect: ['E_LEADER_LEASE_TOO_LONG:leaderLeaseMs'] },
  { name: 'lease at the bound', change: { leaderLeaseMs: 245 }, expect: [] },
  { name: 'lease bound tightens with ρ', change: { clockRateBound: 0.2 }, expect: ['E_LEADER_LEASE_TOO_LONG:leaderLeaseMs'] },
  { name: 'ρ = 0 allows LL = E_min', change: { clockRateBound: 0, leaderLeaseMs: 300 }, expect: [] },
  { name: 'lease not longer than a heartbeat', change: { leaderLeaseMs: 100 }, expect: ['E_LEADER_LEASE_TOO_SHORT:leaderLeaseMs'] },
  { name: 'ρ out of range', change: { clockRateBound: 1 }, expect: ['E_CLOCK_RATE_BOUND:clockRateBound'] },
  { name: 'negative ρ', change: { clockRateBound: -0.1 }, expect: ['E_CLOCK_RATE_BOUND:clockRateBound'] },
  {
    name: 'every problem at once',
    change: { heartbeatIntervalMs: 0, maxEntriesPerAppend: 1.5, maxInflightAppends: -1, transferTimeoutMs: Number.NaN, leaderLeaseMs: 1000 },
    expect: [
      'E_LEADER_LEASE_TOO_LONG:leaderLeaseMs',
      'E_NOT_POSITIVE_INTEGER:heartbeatIntervalMs',
      'E_NOT_POSITIVE_INTEGER:maxEntriesPerAppend',
      'E_NOT_POSITIVE_INTEGER:maxInflightAppends',
      'E_NOT_POSITIVE_INTEGER:transferTimeoutMs',
    ],
  },
];

for (const c of cases) {
  test(`validateRaftConfig: ${c.name}`, () => {
    assert.deepEqual(codes({ ...defaultRaftConfig, ...c.change }), [...c.expect].sort());
  });
}
