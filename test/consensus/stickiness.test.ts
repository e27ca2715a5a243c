// Voter stickiness (safety rule 3) and message admission, checked by hand
// on a lone follower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftProfiles } from '../../src/agent/consensus/config.js';
import type { Message } from '../../src/agent/consensus/types.js';
import { drain, loneNode, message, restoredWith, voters } from './harness.js';

const E = raftProfiles.fast.electionTimeoutMinMs;
const START = 1000;
const prevote = (term: number) => message('c', 'b', term, { type: 'prevote', lastLogIndex: 1, lastLogTerm: 1 });
const vote = (term: number, transfer: boolean) =>
  message('c', 'b', term, { type: 'vote', lastLogIndex: 1, lastLogTerm: 1, transfer });
const heartbeat = message('a', 'b', 1, { type: 'heartbeat', commit: 1, round: 1 });

interface Case {
  name: string;
  /** [local ms, message] delivered in order before the probe. */
  before: [number, Message][];
  probeAt: number;
  probe: Message;
  /** undefined: no answer at all (ignored). */
  granted: boolean | undefined;
}

const cases: Case[] = [
  { name: 'pre-vote just after start', before: [], probeAt: START + E - 1, probe: prevote(2), granted: false },
  { name: 'pre-vote E_min after start', before: [], probeAt: START + E, probe: prevote(2), granted: true },
  { name: 'pre-vote just after a heartbeat', before: [[START + 500, heartbeat]], probeAt: START + 500 + E - 1, probe: prevote(2), granted: false },
  { name: 'pre-vote E_min after a heartbeat', before: [[START + 500, heartbeat]], probeAt: START + 500 + E, probe: prevote(2), granted: true },
  { name: 'vote just after a heartbeat is ignored', before: [[START + 500, heartbeat]], probeAt: START + 501, probe: vote(2, false), granted: undefined },
  { name: 'vote just after start is ignored', before: [], probeAt: START + 1, probe: vote(2, false), granted: undefined },
  { name: 'transfer vote just after a heartbeat', before: [[START + 500, heartbeat]], probeAt: START + 501, probe: vote(2, true), granted: true },
  { name: 'vote E_min after a heartbeat', before: [[START + 500, heartbeat]], probeAt: START + 500 + E, probe: vote(2, false), granted: true },
];

for (const c of cases) {
  test(`stickiness: ${c.name}`, () => {
    const b = loneNode('b', { restored: restoredWith(voters('a', 'b', 'c')), now: START });
    for (const [at, m] of c.before) {
      b.step(m, at);
      drain(b);
    }
    b.step(c.probe, c.probeAt);
    const answers = drain(b).filter((m) => m.type === 'prevote-resp' || m.type === 'vote-resp');
    if (c.granted === undefined) {
      assert.deepEqual(answers, []);
      assert.equal(b.status().term, 1, 'an ignored vote does not raise the term');
    } else {
      assert.equal(answers.length, 1);
      assert.equal((answers[0] as Message & { granted: boolean }).granted, c.granted);
    }
  });
}

test('the noVoterStickiness bug grants a pre-vote right after a heartbeat', () => {
  const b = loneNode('b', { restored: restoredWith(voters('a', 'b', 'c')), now: START, bugs: { noVoterStickiness: true } });
  b.step(heartbeat, START + 500);
  drain(b);
  b.step(prevote(2), START + 501);
  const [answer] = drain(b);
  assert.equal(answer?.type === 'prevote-resp' && answer.granted, true);
});

test('messages with a wrong cluster id, recipient, incarnation, or answers from an unknown sender are dropped and counted', () => {
  const b = loneNode('b', { restored: restoredWith(voters('a', 'b', 'c')), now: START });
  const t = START + 2 * E;
  b.step({ ...prevote(2), clusterId: 'other' }, t);
  b.step({ ...prevote(2), to: 'x' }, t);
  b.step({ ...prevote(2), fromIncarnation: 'c-reimaged' }, t);
  b.step(message('z', 'b', 1, { type: 'heartbeat-resp', round: 1 }), t);
  b.step(message('z', 'b', 1, { type: 'timeout-now' }), t);
  assert.deepEqual(drain(b), []);
  assert.deepEqual(b.status().dropped, { clusterId: 1, recipient: 1, sender: 2, incarnation: 1 });
});

test('requests from a sender outside a stale membership are answered, as Raft requires', () => {
  const b = loneNode('b', { restored: restoredWith(voters('a', 'b', 'c')), now: START });
  const t = START + 2 * E;
  // A new member b has not heard of yet asks for its vote...
  b.step(message('z', 'b', 2, { type: 'prevote', lastLogIndex: 5, lastLogTerm: 1 }), t);
  assert.deepEqual(
    drain(b).map((m) => m.type === 'prevote-resp' && [m.to, m.granted]),
    [['z', true]],
  );
  // ...or leads: a node must learn the configuration that introduces its leader.
  b.step(message('z', 'b', 2, { type: 'heartbeat', commit: 0, round: 1 }), t);
  assert.equal(b.status().leader, 'z');
  assert.equal(b.status().dropped.sender, 0);
});
