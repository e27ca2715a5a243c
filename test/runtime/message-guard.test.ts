import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePeerMessage } from '../../src/agent/runtime/message-guard.js';

const header = { clusterId: 'c1', from: 'n1', to: 'n2', term: 3, fromIncarnation: 'i1' };

test('well-formed messages of every type pass', () => {
  const entry = { index: 4, term: 3, kind: 'command', data: '{}' };
  const membership = { members: [{ id: 'n1', incarnation: 'i1', kind: 'node', role: 'voter' }] };
  const bodies = [
    { type: 'prevote', lastLogIndex: 1, lastLogTerm: 1 },
    { type: 'prevote-resp', granted: true },
    { type: 'vote', lastLogIndex: 1, lastLogTerm: 1, transfer: false },
    { type: 'vote-resp', granted: false },
    { type: 'append', prevIndex: 3, prevTerm: 3, entries: [entry], commit: 3 },
    { type: 'append-resp', success: false, matchIndex: 0, hintIndex: 2, hintTerm: 1 },
    { type: 'snapshot', snapshot: { meta: { index: 9, term: 2, membership }, data: '{}' } },
    { type: 'snapshot-resp', matchIndex: 9 },
    { type: 'heartbeat', commit: 3, round: 7 },
    { type: 'heartbeat-resp', round: 7 },
    { type: 'timeout-now' },
  ];
  for (const body of bodies) assert.ok(parsePeerMessage({ ...header, ...body }), body.type);
});

test('malformed messages are refused, never thrown on', () => {
  const cases: unknown[] = [
    null, 42, 'text', [], {},
    { ...header, type: 'no-such-type' },
    { ...header, type: 'toString' },
    { ...header, type: '__proto__' },
    { ...header, term: -1, type: 'timeout-now' },
    { ...header, term: 1.5, type: 'timeout-now' },
    { ...header, from: 7, type: 'timeout-now' },
    { ...header, clusterId: undefined, type: 'timeout-now' },
    { ...header, type: 'append', prevIndex: 1, prevTerm: 1, commit: 1, entries: [{ index: 1, term: 1, kind: 'evil', data: '' }] },
    { ...header, type: 'append', prevIndex: 1, prevTerm: 1, commit: 1, entries: 'nope' },
    { ...header, type: 'vote', lastLogIndex: 1, lastLogTerm: 1 },
    { ...header, type: 'heartbeat', commit: 1, round: Number.MAX_VALUE },
    { ...header, type: 'snapshot', snapshot: { meta: { index: 1, term: 1, membership: { members: [{ id: 'x' }] } }, data: '' } },
  ];
  for (const raw of cases) assert.equal(parsePeerMessage(raw), null, JSON.stringify(raw));
});
