import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseGranter } from '../../src/agent/core/lease-granter.js';
import type { GrantDecision, Placement } from '../../src/agent/core/lease-granter.js';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import type { GroupEpoch, LeaseRequest } from '../../src/agent/core/lease-messages.js';

// Default timing: L = 1000 ms, G = 1000 * 1.1/0.9 + 50 = 1272.2 ms. The
// leader is elected at local time 0, so it settles at 1272.2.
const G = 11000 / 9 + 50;
const X1: GroupEpoch = { group: 'X', epoch: 1 };

const placements = (entries: [string, string, number][]): Map<string, Placement> =>
  new Map(entries.map(([group, node, epoch]) => [group, { node, epoch }]));

const req = (from: string, seq: number, r: Partial<LeaseRequest> = {}): LeaseRequest => ({
  from, session: `${from}-s`, seq, appliedSeq: seq - 1, held: [], stopped: [], ...r,
});

function ask(g: LeaseGranter, r: LeaseRequest, p: Map<string, Placement>, now: number, leaderLeaseUntil = Infinity): GrantDecision {
  return g.onRequest(r, { placements: p, leaderLeaseUntil }, now);
}

function granted(d: GrantDecision): string[] {
  assert.ok(d.ok, 'expected a grant');
  return d.grant.groups.map((p) => `${p.group}@${p.epoch}`);
}

test('rule 2: no grant unless now is inside the leader lease', () => {
  const p = placements([['X', 'n1', 1]]);
  const cases: [number, boolean][] = [[-Infinity, false], [2000, false], [2000.5, true], [Infinity, true]];
  for (const [leaderLeaseUntil, ok] of cases) {
    const g = new LeaseGranter(defaultLeaseTiming, 0);
    const d = ask(g, req('n1', 1), p, 2000, leaderLeaseUntil);
    assert.equal(d.ok, ok, String(leaderLeaseUntil));
    if (!d.ok) assert.equal(d.code, 'E_NO_LEADER_LEASE');
  }
});

test('rule 3: after stopGranting nothing is granted', () => {
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  const p = placements([['X', 'n1', 1]]);
  assert.deepEqual(granted(ask(g, req('n1', 1), p, 2000)), ['X@1']);
  g.stopGranting();
  assert.deepEqual(ask(g, req('n1', 2), p, 2100), { ok: false, code: 'E_NOT_GRANTING' });
  assert.deepEqual(g.placeableAt('X', 'n1', 2100).blockers, [{ reason: 'not-granting' }]);
});

test('rule 4 settling: for the first G only reported pairs matching the placement are renewed', () => {
  const p = placements([['X', 'n1', 1], ['Y', 'n1', 2], ['Z', 'n2', 3], ['W', 'n2', 4]]);
  // [request, now, granted, withheld]
  const cases: [LeaseRequest, number, string[], string[]][] = [
    [req('n1', 1, { held: [X1, { group: 'Y', epoch: 9 }] }), 100, ['X@1'], ['Y@2']], // Y reported under an old epoch
    [req('n2', 1, { held: [X1, { group: 'W', epoch: 4 }] }), 100, ['W@4'], ['Z@3']], // X is placed on n1, not n2
    [req('n2', 2), 1272, [], ['Z@3', 'W@4']],
    [req('n2', 3), 1273, ['Z@3', 'W@4'], []],
  ];
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  assert.equal(g.settledAt, G);
  for (const [r, now, want, wantWithheld] of cases) {
    const d = ask(g, r, p, now);
    assert.deepEqual(granted(d), want, `${r.from} at ${now}`);
    assert.ok(d.ok);
    assert.deepEqual(d.withheld.map((w) => `${w.group}@${w.epoch}`), wantWithheld);
    for (const w of d.withheld) assert.deepEqual(w.blockers, [{ reason: 'settling', until: G }]);
  }
  assert.deepEqual(g.placeableAt('X', 'n2', 1000).blockers, [
    { reason: 'settling', until: G },
    { reason: 'held-elsewhere', node: 'n1', until: 100 + G },
  ]);
});

/**
 * X runs on n1 (last granted at 1400, seq 2), then the placement moves it to
 * n2 and n1's next grant (seq 3, at 1510) leaves it out. When may n2 have it?
 */
function moveSetup(): { g: LeaseGranter; onN2: Map<string, Placement> } {
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  const onN1 = placements([['X', 'n1', 1]]);
  assert.deepEqual(granted(ask(g, req('n1', 1, { held: [X1] }), onN1, 100)), ['X@1']);
  assert.deepEqual(granted(ask(g, req('n1', 2, { held: [X1] }), onN1, 1400)), ['X@1']);
  const onN2 = placements([['X', 'n2', 2]]);
  const d = ask(g, req('n2', 1), onN2, 1500);
  assert.ok(d.ok);
  assert.deepEqual(d.withheld, [{ group: 'X', epoch: 2, blockers: [{ reason: 'held-elsewhere', node: 'n1', until: 1400 + G }] }]);
  assert.deepEqual(granted(ask(g, req('n1', 3, { held: [X1] }), onN2, 1510)), []);
  return { g, onN2 };
}

test('rule 4 (a): n1 reports X stopped after applying the grant without it', () => {
  // [report from n1 at 1600, does it release X?]
  const cases: [Partial<LeaseRequest>, boolean, string][] = [
    [{ appliedSeq: 3, stopped: [X1] }, true, 'applied seq 3, X confirmed dead'],
    [{ appliedSeq: 2, stopped: [X1] }, false, 'has not applied the grant without X'],
    [{ appliedSeq: 3, stopped: [] }, false, 'X not yet confirmed dead'],
    [{ appliedSeq: 3, stopped: [X1], session: 'n1-restarted' }, false, 'another session of n1'],
    [{ appliedSeq: 3, stopped: [X1], held: [X1] }, false, 'contradictory report'],
  ];
  for (const [report, releases, why] of cases) {
    const { g, onN2 } = moveSetup();
    ask(g, req('n1', 4, report), onN2, 1600);
    assert.deepEqual(granted(ask(g, req('n2', 2), onN2, 1610)), releases ? ['X@2'] : [], why);
    assert.equal(g.placeableAt('X', 'n2', 1610).ok, releases, why);
  }
});

test('rule 4 (a): a grant without X answering an older request than one granted with X is no evidence', () => {
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  const onN1 = placements([['X', 'n1', 1]]);
  const onN2 = placements([['X', 'n2', 2]]);
  granted(ask(g, req('n1', 5, { held: [X1] }), onN1, 1300));
  granted(ask(g, req('n1', 4, { held: [X1] }), onN2, 1400)); // reordered request 4, answered without X
  ask(g, req('n1', 6, { appliedSeq: 5, stopped: [X1] }), onN2, 1500);
  assert.deepEqual(granted(ask(g, req('n2', 1), onN2, 1600)), []);
  // A grant without X answering request 7, applied and followed by a stop, is.
  granted(ask(g, req('n1', 7, { appliedSeq: 5, held: [X1] }), onN2, 1700));
  ask(g, req('n1', 8, { appliedSeq: 7, stopped: [X1] }), onN2, 1800);
  assert.deepEqual(granted(ask(g, req('n2', 2), onN2, 1900)), ['X@2']);
});

test('rule 4 (b): G after the last grant of X to n1, with no word from n1', () => {
  const cases: [number, string[]][] = [[1400 + G - 0.5, []], [1400 + G, ['X@2']]];
  for (const [now, want] of cases) {
    const { g, onN2 } = moveSetup();
    assert.deepEqual(granted(ask(g, req('n2', 2), onN2, now)), want, String(now));
  }
});

test('rule 4 (c): n1 fenced with confirmation', () => {
  const { g, onN2 } = moveSetup();
  g.onFenced('n2'); // fencing another node changes nothing
  assert.deepEqual(granted(ask(g, req('n2', 2), onN2, 1600)), []);
  g.onFenced('n1');
  assert.deepEqual(granted(ask(g, req('n2', 3), onN2, 1610)), ['X@2']);
});

test('rule 4: G follows the largest L granted in the last G, not the last L', () => {
  // L = 1000 granted at 1400, then L = 500 at 1450: G(500) = 661.1 would free
  // X at 2111, but the 1000 ms lease of 1400 may outlive the 500 ms one until
  // 1400 + G(1000) = 2672.2.
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  const onN1 = placements([['X', 'n1', 1]]);
  granted(ask(g, req('n1', 1, { held: [X1] }), onN1, 100));
  granted(ask(g, req('n1', 2, { held: [X1] }), onN1, 1400));
  g.setTiming({ ...defaultLeaseTiming, nodeLeaseMs: 500 });
  const d = ask(g, req('n1', 3, { held: [X1] }), onN1, 1450);
  assert.ok(d.ok);
  assert.equal(d.grant.leaseMs, 500);
  const onN2 = placements([['X', 'n2', 2]]);
  const cases: [number, boolean][] = [[2200, false], [2672, false], [2673, true]];
  for (const [now, ok] of cases) assert.equal(g.placeableAt('X', 'n2', now).ok, ok, String(now));
  assert.deepEqual(granted(ask(g, req('n2', 1), onN2, 2673)), ['X@2']);
});

test('rule 4: a refused request authorises nothing', () => {
  const g = new LeaseGranter(defaultLeaseTiming, 0);
  ask(g, req('n1', 1, { held: [X1] }), placements([['X', 'n1', 1]]), 100, 50);
  assert.equal(g.placeableAt('X', 'n2', 1300).ok, true);
});
