// Each checker fed a hand-made history: a valid one passes, a violating one fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, Message, Role } from '../../src/agent/consensus/types.js';
import { checkAppliedState } from './checkers/applied-state.js';
import { checkCommitted } from './checkers/committed.js';
import type { CommitEvent } from './checkers/committed.js';
import { checkDurablePromises } from './checkers/durable-promises.js';
import { checkGroupExclusion } from './checkers/groups.js';
import type { ProcessEvent } from './checkers/groups.js';
import { checkLeadersPerTerm } from './checkers/leaders.js';
import { checkLeases } from './checkers/lease.js';
import { checkLogMatching } from './checkers/log-matching.js';
import type { LogEvent } from './checkers/log-matching.js';

const e = (index: number, term: number, data = `d${index}`): Entry => ({ index, term, kind: 'command', data });
const role = (at: number, node: string, term: number, r: Role) => ({ at, node, term, role: r });

test('leader per term: two leaders of one term fail, one leader per term passes', () => {
  assert.equal(checkLeadersPerTerm([role(1, 'n1', 2, 'leader'), role(2, 'n2', 2, 'follower'), role(5, 'n2', 3, 'leader'), role(6, 'n1', 2, 'leader')]), null);
  const v = checkLeadersPerTerm([role(1, 'n1', 2, 'leader'), role(3, 'n2', 2, 'candidate'), role(4, 'n2', 2, 'leader')]);
  assert.equal(v?.checker, 'leader-per-term');
  assert.equal(v?.at, 4);
});

test('lease: overlapping leases in true time fail; a lease ended by stepping down or expiry passes', () => {
  const ok = checkLeases([
    { at: 0, node: 'n1', isLeader: true, leaseUntilTrue: 240 },
    { at: 250, node: 'n2', isLeader: true, leaseUntilTrue: 490 }, // n1's lease expired at 240
    { at: 300, node: 'n1', isLeader: false, leaseUntilTrue: -Infinity },
    { at: 400, node: 'n3', isLeader: true, leaseUntilTrue: -Infinity }, // leader without a lease yet
  ]);
  assert.equal(ok, null);
  const stepDown = checkLeases([
    { at: 0, node: 'n1', isLeader: true, leaseUntilTrue: 240 },
    { at: 100, node: 'n1', isLeader: false, leaseUntilTrue: -Infinity },
    { at: 110, node: 'n2', isLeader: true, leaseUntilTrue: 350 },
  ]);
  assert.equal(stepDown, null);
  const v = checkLeases([
    { at: 0, node: 'n1', isLeader: true, leaseUntilTrue: 240 },
    { at: 200, node: 'n2', isLeader: true, leaseUntilTrue: 440 },
  ]);
  assert.equal(v?.checker, 'lease');
});

test('log matching: same index and term with different history fails; truncation and snapshots pass', () => {
  const ok: LogEvent[] = [
    { at: 1, node: 'n1', kind: 'append', entries: [e(1, 1), e(2, 1), e(3, 2, 'old')] },
    { at: 2, node: 'n2', kind: 'append', entries: [e(1, 1), e(2, 1)] },
    { at: 3, node: 'n2', kind: 'append', entries: [e(3, 3, 'new')] },
    { at: 4, node: 'n1', kind: 'append', entries: [e(3, 3, 'new'), e(4, 3)] }, // n1 truncates its term-2 entry
    { at: 5, node: 'n1', kind: 'compact', index: 3, term: 3 },
    { at: 6, node: 'n3', kind: 'install', index: 3, term: 3 },
    { at: 7, node: 'n3', kind: 'append', entries: [e(4, 3)] },
  ];
  assert.equal(checkLogMatching(ok), null);
  const v = checkLogMatching([
    { at: 1, node: 'n1', kind: 'append', entries: [e(1, 1, 'a'), e(2, 1)] },
    { at: 2, node: 'n2', kind: 'append', entries: [e(1, 1, 'x'), e(2, 1)] },
  ]);
  assert.equal(v?.checker, 'log-matching');
  const gap = checkLogMatching([{ at: 1, node: 'n1', kind: 'append', entries: [e(1, 1), e(3, 1)] }]);
  assert.equal(gap?.checker, 'log-matching');
  const unknownSnapshot = checkLogMatching([{ at: 1, node: 'n1', kind: 'install', index: 5, term: 2 }]);
  assert.equal(unknownSnapshot?.checker, 'log-matching');
});

test('committed: a changed or lost committed entry fails; a stale entry overwritten before commit passes', () => {
  const log = (at: number, node: string, entries: Entry[]): CommitEvent => ({ kind: 'log', event: { at, node, kind: 'append', entries } });
  const ok: CommitEvent[] = [
    log(1, 'n1', [e(1, 1), e(2, 2)]),
    log(1, 'n2', [e(1, 1), e(2, 1, 'stale')]),
    { kind: 'applied', at: 2, node: 'n1', entry: e(1, 1), nodeTerm: 2 },
    { kind: 'applied', at: 3, node: 'n1', entry: e(2, 2), nodeTerm: 2 },
    log(4, 'n2', [e(2, 2)]),
    { kind: 'applied', at: 5, node: 'n2', entry: e(1, 1), nodeTerm: 2 },
    { kind: 'applied', at: 5, node: 'n2', entry: e(2, 2), nodeTerm: 2 },
    { kind: 'leader', at: 6, node: 'n2', term: 3 },
  ];
  assert.equal(checkCommitted(ok), null);
  const changed = checkCommitted([
    { kind: 'applied', at: 1, node: 'n1', entry: e(1, 1, 'a'), nodeTerm: 1 },
    { kind: 'applied', at: 2, node: 'n2', entry: e(1, 1, 'b'), nodeTerm: 1 },
  ]);
  assert.equal(changed?.checker, 'committed');
  // Raft's Figure 8: index 2 was reported committed in term 4, yet a leader of term 5 holds another entry there.
  const lost = checkCommitted([
    log(1, 'n1', [e(1, 1), e(2, 2)]),
    log(1, 'n5', [e(1, 1), e(2, 3)]),
    { kind: 'applied', at: 2, node: 'n1', entry: e(1, 1), nodeTerm: 4 },
    { kind: 'applied', at: 2, node: 'n1', entry: e(2, 2), nodeTerm: 4 },
    { kind: 'leader', at: 3, node: 'n5', term: 5 },
  ]);
  assert.equal(lost?.checker, 'committed');
  // A stale leader of an older term may lack it.
  const stale = checkCommitted([
    log(1, 'n1', [e(1, 1), e(2, 2)]),
    log(1, 'n5', [e(1, 1)]),
    { kind: 'applied', at: 2, node: 'n1', entry: e(1, 1), nodeTerm: 4 },
    { kind: 'applied', at: 2, node: 'n1', entry: e(2, 2), nodeTerm: 4 },
    { kind: 'leader', at: 3, node: 'n5', term: 4 },
  ]);
  assert.equal(stale, null);
});

test('applied state: different states at one index, or a skipped index, fail', () => {
  const ok = checkAppliedState([
    { at: 1, node: 'n1', kind: 'applied', index: 1, stateHash: 11 },
    { at: 2, node: 'n1', kind: 'applied', index: 2, stateHash: 22 },
    { at: 3, node: 'n2', kind: 'restored', index: 2, stateHash: 22 },
    { at: 4, node: 'n2', kind: 'applied', index: 3, stateHash: 33 },
  ]);
  assert.equal(ok, null);
  const differs = checkAppliedState([
    { at: 1, node: 'n1', kind: 'applied', index: 1, stateHash: 11 },
    { at: 2, node: 'n2', kind: 'applied', index: 1, stateHash: 12 },
  ]);
  assert.equal(differs?.checker, 'applied-state');
  const skipped = checkAppliedState([
    { at: 1, node: 'n1', kind: 'applied', index: 1, stateHash: 11 },
    { at: 2, node: 'n1', kind: 'applied', index: 3, stateHash: 33 },
  ]);
  assert.equal(skipped?.checker, 'applied-state');
});

test('durable promises: a vote or term forgotten across a restart fails', () => {
  const head = { clusterId: 'c', fromIncarnation: 'i' };
  const grant = (term: number, to: string): Message => ({ ...head, from: 'n2', to, term, type: 'vote-resp', granted: true });
  const ok = checkDurablePromises([
    { kind: 'sent', msg: grant(3, 'n1') },
    { kind: 'sent', msg: { ...head, from: 'n2', to: 'n3', term: 4, type: 'prevote-resp', granted: true } }, // a pre-vote promises nothing
    { kind: 'restarted', at: 10, node: 'n2', hardState: { term: 3, votedFor: 'n1', commit: 0 } },
  ]);
  assert.equal(ok, null);
  const forgotVote = checkDurablePromises([
    { kind: 'sent', msg: grant(3, 'n1') },
    { kind: 'restarted', at: 10, node: 'n2', hardState: { term: 3, votedFor: null, commit: 0 } },
  ]);
  assert.equal(forgotVote?.checker, 'durable-promises');
  const forgotTerm = checkDurablePromises([
    { kind: 'sent', msg: { ...head, from: 'n2', to: 'n1', term: 5, type: 'heartbeat-resp', round: 1 } },
    { kind: 'restarted', at: 10, node: 'n2', hardState: { term: 4, votedFor: null, commit: 0 } },
  ]);
  assert.equal(forgotTerm?.checker, 'durable-promises');
});

test('group exclusion: a group active on two nodes at once fails; a hand-over after the last process ended passes', () => {
  const p = (at: number, node: string, resource: string, kind: 'start' | 'end', group = 'g1'): ProcessEvent => ({ at, node, group, resource, kind });
  const ok = checkGroupExclusion([
    p(0, 'n1', 'a', 'start'),
    p(1, 'n1', 'b', 'start'),
    p(5, 'n1', 'b', 'end'),
    p(6, 'n2', 'x', 'start', 'g2'), // another group may run anywhere
    p(7, 'n1', 'a', 'end'),
    p(7.5, 'n2', 'a', 'start'),
    p(8, 'n2', 'b', 'start'),
  ]);
  assert.equal(ok, null);
  const v = checkGroupExclusion([p(0, 'n1', 'a', 'start'), p(1, 'n1', 'b', 'start'), p(2, 'n1', 'a', 'end'), p(3, 'n2', 'a', 'start')]);
  assert.equal(v?.checker, 'group-exclusive');
  assert.equal(v?.at, 3);
  assert.match(v?.detail ?? '', /g1 started on n2 .* active on n1 since 0\.000 \(b\)/);
});
