import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseHolder } from '../../src/agent/core/lease-holder.js';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import type { GroupEpoch, LeaseGrant } from '../../src/agent/core/lease-messages.js';

// Default timing: λ + K = 100 ms. Grants here carry L = 1000 ms unless stated.
const A1: GroupEpoch = { group: 'A', epoch: 1 };
const B2: GroupEpoch = { group: 'B', epoch: 2 };
const holder = (): LeaseHolder => new LeaseHolder('n1', 's1', defaultLeaseTiming);
const grant = (seq: number, groups: GroupEpoch[], leaseMs = 1000, extra: Partial<LeaseGrant> = {}): LeaseGrant => ({
  to: 'n1', session: 's1', seq, leaseMs, groups, ...extra,
});

test('the lease ends at the anchor of the answered request + L, however late the grant', () => {
  // [request time, grant arrival, want until, want started]
  const cases: [number, number, number, GroupEpoch[]][] = [
    [0, 10, 1000, [A1]],
    [0, 700, 1000, [A1]], // a late grant does not move the end to 1700
    [0, 999, 1000, [A1]],
    [0, 1000, 1000, []], // arrives at the end: nothing may start
    [0, 5000, 1000, []],
  ];
  for (const [requestAt, arriveAt, until, started] of cases) {
    const h = holder();
    const req = h.requestRenewal(requestAt);
    assert.equal(req.seq, 1);
    const change = h.onGrant(grant(req.seq, [A1]), arriveAt);
    assert.deepEqual(change.start, started, `arrive ${arriveAt}`);
    assert.equal(h.allowed(arriveAt).until, until);
    assert.equal(h.guardDeadline(), until - 100);
  }
});

test('nothing is allowed at or after until; expiry stops everything, once', () => {
  const h = holder();
  h.onGrant(grant(h.requestRenewal(0).seq, [A1, B2]), 20);
  assert.deepEqual(h.allowed(999).groups, [A1, B2]);
  assert.deepEqual(h.allowed(1000).groups, []);
  assert.deepEqual(h.tick(999), { stop: [], start: [] });
  assert.deepEqual(h.tick(1000), { stop: [A1, B2], start: [] });
  assert.deepEqual(h.tick(1100), { stop: [], start: [] });
  const req = h.requestRenewal(1100);
  assert.deepEqual([req.held, req.stopped], [[], []]); // stopping, not yet confirmed
  h.onStopped(A1);
  assert.deepEqual(h.requestRenewal(1200).stopped, [A1]);
});

test('duplicate, reordered, foreign and forgotten grants are ignored', () => {
  const h = holder();
  const r1 = h.requestRenewal(0);
  const r2 = h.requestRenewal(300);
  assert.deepEqual(h.onGrant(grant(r2.seq, [A1]), 350), { stop: [], start: [A1] });
  assert.equal(h.allowed(350).until, 1300);
  // [grant, why it must be ignored]
  const ignored: [LeaseGrant, string][] = [
    [grant(r1.seq, [B2], 5000), 'older seq than the newest applied'],
    [grant(r2.seq, [B2]), 'duplicate of the applied seq'],
    [grant(9, [B2]), 'answers no request'],
    [grant(r2.seq + 1, [B2], 1000, { session: 's0' }), 'a previous session'],
    [grant(r2.seq + 1, [B2], 1000, { to: 'n2' }), 'another node'],
  ];
  h.requestRenewal(400); // seq 3 exists, so only the session/node checks can refuse it
  for (const [g, why] of ignored) {
    assert.deepEqual(h.onGrant(g, 500), { stop: [], start: [] }, why);
    assert.deepEqual(h.allowed(500), { until: 1300, groups: [A1] }, why);
  }
  // Only the newest 32 anchors are kept: the first of 33 fresh requests is forgotten.
  const f = holder();
  const first = f.requestRenewal(0).seq;
  for (let i = 0; i < 32; i++) f.requestRenewal(1);
  assert.deepEqual(f.onGrant(grant(first, [A1]), 2).start, []);
  assert.deepEqual(f.onGrant(grant(33, [A1]), 2).start, [A1]);
});

test('a newer grant replaces the list: a group left out stops at once, keeping its old deadline', () => {
  const h = holder();
  h.onGrant(grant(h.requestRenewal(0).seq, [A1, B2]), 50); // until 1000
  assert.equal(h.guardDeadline(), 900);
  const change = h.onGrant(grant(h.requestRenewal(100).seq, [A1]), 150); // until 1100
  assert.deepEqual(change, { stop: [B2], start: [] });
  assert.deepEqual(h.allowed(150).groups, [A1]);
  // B may still be dying: the guard keeps its deadline from the lease it ran under.
  assert.equal(h.guardDeadline(), 900);
  h.onStopped({ group: 'B', epoch: 1 }); // wrong epoch: no confirmation
  assert.equal(h.guardDeadline(), 900);
  h.onStopped(B2);
  assert.equal(h.guardDeadline(), 1000);
  const req = h.requestRenewal(200);
  assert.deepEqual([req.appliedSeq, req.held, req.stopped], [2, [A1], [B2]]);
});

test('a new epoch of a group stops the old one and starts the new; a re-granted group leaves the stopped list', () => {
  const h = holder();
  h.onGrant(grant(h.requestRenewal(0).seq, [A1]), 10);
  assert.deepEqual(h.onGrant(grant(h.requestRenewal(20).seq, [{ group: 'A', epoch: 3 }]), 30), {
    stop: [A1],
    start: [{ group: 'A', epoch: 3 }],
  });
  h.onStopped(A1); // A is held again under epoch 3: the late confirmation is ignored
  assert.deepEqual(h.requestRenewal(40).stopped, []);

  const g = holder();
  g.onGrant(grant(g.requestRenewal(0).seq, [B2]), 10);
  g.onGrant(grant(g.requestRenewal(20).seq, []), 30);
  g.onStopped(B2);
  assert.deepEqual(g.requestRenewal(40).stopped, [B2]);
  assert.deepEqual(g.onGrant(grant(3, [B2]), 50).start, [B2]);
  assert.deepEqual(g.requestRenewal(60).stopped, []);
});
