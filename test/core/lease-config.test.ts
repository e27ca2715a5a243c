import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLeaseTiming, leaseProfiles, settlePeriodMs, validateLeaseTiming } from '../../src/agent/core/lease-config.js';
import type { LeaseTiming } from '../../src/agent/core/lease-config.js';

const codes = (t: LeaseTiming): string[] => validateLeaseTiming(t).map((p) => `${p.code}:${p.field}`).sort();

test('the defaults and every profile pass validation', () => {
  assert.deepEqual(validateLeaseTiming(defaultLeaseTiming), []);
  for (const [name, t] of Object.entries(leaseProfiles)) assert.deepEqual(validateLeaseTiming(t), [], name);
});

test('validateLeaseTiming reports each problem, and every one at once', () => {
  const cases: { name: string; change: Partial<LeaseTiming>; want: string[] }[] = [
    // 3h = 300
    { name: 'E_min < 3h', change: { electionTimeoutMinMs: 299, leaderLeaseMs: 200 }, want: ['E_ELECTION_TIMEOUT_TOO_SHORT:electionTimeoutMinMs'] },
    { name: 'E_min = 3h', change: {}, want: [] },
    // E_min (1 - ρ)/(1 + ρ) = 300 * 0.9 / 1.1 = 245.45
    { name: 'LL = 245 fits', change: { leaderLeaseMs: 245 }, want: [] },
    { name: 'LL = 246 too long', change: { leaderLeaseMs: 246 }, want: ['E_LEADER_LEASE_TOO_LONG:leaderLeaseMs'] },
    // (1 + ρ)(2h + 2 E_min + λ + K + 3 RTT) = 1.1 * (200 + 600 + 100 + 6) = 996.6
    { name: 'L = 997 fits', change: { nodeLeaseMs: 997 }, want: [] },
    { name: 'L = 996 too short', change: { nodeLeaseMs: 996 }, want: ['E_NODE_LEASE_TOO_SHORT:nodeLeaseMs'] },
    // ρ (λ + K) = 0.1 * 100 = 10
    { name: 'ε = 10 fits', change: { settleMarginMs: 10 }, want: [] },
    { name: 'ε = 9 too small', change: { settleMarginMs: 9 }, want: ['E_SETTLE_MARGIN_TOO_SMALL:settleMarginMs'] },
    { name: 'ρ = 1', change: { clockRateBound: 1 }, want: ['E_CLOCK_RATE_BOUND:clockRateBound'] },
    { name: 'ρ < 0', change: { clockRateBound: -0.01 }, want: ['E_CLOCK_RATE_BOUND:clockRateBound'] },
    { name: 'ρ = 0 is allowed', change: { clockRateBound: 0 }, want: [] },
    {
      name: 'non-positive and non-finite durations, cross-field checks on them skipped',
      change: { killTimeMs: 0, rttBudgetMs: -1, heartbeatIntervalMs: Number.NaN },
      want: ['E_NOT_POSITIVE:heartbeatIntervalMs', 'E_NOT_POSITIVE:killTimeMs', 'E_NOT_POSITIVE:rttBudgetMs'],
    },
    {
      // E_min 250 < 300; LL 240 > 250*0.9/1.1 = 204.5; L 500 < 1.1*(200+500+100+6) = 886.6; ε 5 < 10
      name: 'every cross-field problem at once',
      change: { electionTimeoutMinMs: 250, nodeLeaseMs: 500, settleMarginMs: 5 },
      want: [
        'E_ELECTION_TIMEOUT_TOO_SHORT:electionTimeoutMinMs',
        'E_LEADER_LEASE_TOO_LONG:leaderLeaseMs',
        'E_NODE_LEASE_TOO_SHORT:nodeLeaseMs',
        'E_SETTLE_MARGIN_TOO_SMALL:settleMarginMs',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(codes({ ...defaultLeaseTiming, ...c.change }), c.want.sort(), c.name);
});

test('settlePeriodMs: G = L (1 + ρ)/(1 - ρ) + ε, from the L passed', () => {
  const cases: { t: LeaseTiming; l: number; want: number }[] = [
    { t: defaultLeaseTiming, l: 1000, want: 11000 / 9 + 50 }, // 1272.2
    { t: defaultLeaseTiming, l: 500, want: 5500 / 9 + 50 }, // 661.1
    { t: { ...defaultLeaseTiming, clockRateBound: 0 }, l: 1000, want: 1050 },
    { t: { ...defaultLeaseTiming, clockRateBound: 0.5 }, l: 1000, want: 3050 },
  ];
  for (const c of cases) assert.ok(Math.abs(settlePeriodMs(c.t, c.l) - c.want) < 1e-9, `${c.l} ${c.t.clockRateBound}`);
});
