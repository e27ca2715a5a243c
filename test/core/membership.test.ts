import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LivenessView, defaultLivenessThresholds, validateLivenessThresholds } from '../../src/agent/core/membership.js';
import type { MemberFlags } from '../../src/agent/core/membership.js';

// Defaults: h = 100 ms, suspect after 300 ms of silence, Down after 1000 ms.
test('node states from when each node was last heard, and the database flags', () => {
  const cases: { name: string; member: Omit<MemberFlags, 'id'>; heard: number[]; now: number; want: [string, boolean] }[] = [
    { name: 'never heard', member: { paused: false, joining: false }, heard: [], now: 0, want: ['Down', false] },
    { name: 'just heard', member: { paused: false, joining: false }, heard: [1000], now: 1000, want: ['Up', false] },
    { name: 'silent 299 ms', member: { paused: false, joining: false }, heard: [1000], now: 1299, want: ['Up', false] },
    { name: 'silent 300 ms: suspect', member: { paused: false, joining: false }, heard: [1000], now: 1300, want: ['Up', true] },
    { name: 'silent 999 ms', member: { paused: false, joining: false }, heard: [1000], now: 1999, want: ['Up', true] },
    { name: 'silent 1000 ms: Down', member: { paused: false, joining: false }, heard: [1000], now: 2000, want: ['Down', false] },
    { name: 'an older observation does not roll back', member: { paused: false, joining: false }, heard: [1500, 1000], now: 2100, want: ['Up', true] },
    { name: 'paused and heard', member: { paused: true, joining: false }, heard: [1000], now: 1100, want: ['Paused', false] },
    { name: 'paused and silent: Down', member: { paused: true, joining: false }, heard: [1000], now: 2000, want: ['Down', false] },
    { name: 'learner catching up', member: { paused: false, joining: true }, heard: [1000], now: 1100, want: ['Joining', false] },
    { name: 'joining wins over paused', member: { paused: true, joining: true }, heard: [1000], now: 1400, want: ['Joining', true] },
  ];
  for (const c of cases) {
    const view = new LivenessView();
    view.setMembers([{ id: 'n1', ...c.member }]);
    for (const at of c.heard) view.observe('n1', at);
    const s = view.state('n1', c.now);
    assert.deepEqual([s?.state, s?.suspect], c.want, c.name);
  }
});

test('setMembers keeps last-heard times; unknown nodes are ignored', () => {
  const view = new LivenessView();
  view.setMembers([{ id: 'a', paused: false, joining: true }]);
  view.observe('a', 100);
  view.observe('stranger', 100);
  view.setMembers([{ id: 'a', paused: false, joining: false }, { id: 'b', paused: false, joining: false }]);
  assert.deepEqual(view.states(150), [
    { node: 'a', state: 'Up', suspect: false, lastHeardAt: 100 },
    { node: 'b', state: 'Down', suspect: false, lastHeardAt: null },
  ]);
  assert.equal(view.state('stranger', 150), undefined);
});

test('validateLivenessThresholds reports every problem', () => {
  assert.deepEqual(validateLivenessThresholds(defaultLivenessThresholds), []);
  const bad = validateLivenessThresholds({ heartbeatIntervalMs: 0, suspectAfterIntervals: 2.5, downAfterIntervals: 3 });
  assert.deepEqual(bad.map((p) => `${p.code}:${p.field}`), ['E_NOT_POSITIVE_INTEGER:heartbeatIntervalMs', 'E_NOT_POSITIVE_INTEGER:suspectAfterIntervals']);
  const order = validateLivenessThresholds({ heartbeatIntervalMs: 100, suspectAfterIntervals: 5, downAfterIntervals: 5 });
  assert.deepEqual(order.map((p) => p.code), ['E_DOWN_BEFORE_SUSPECT']);
});
