// Each planted bug switch changes behaviour: checked directly on lone nodes
// driven by hand, with and without the switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlantedBugs, RaftNode } from '../../src/agent/consensus/raft.js';
import type { Entry, Message } from '../../src/agent/consensus/types.js';
import { drain, loneNode, message, restoredWith, voters } from './harness.js';

const abc = voters('a', 'b', 'c');
const cmd = (index: number, term: number): Entry => ({ index, term, kind: 'command', data: `c${index}` });
const LATE = 10_000; // well past start stickiness

/** Drive lone node `a` to leadership with b's votes. */
function electA(a: RaftNode): void {
  const t = a.nextWakeAt();
  a.tick(t);
  drain(a);
  const next = a.status().term + 1;
  a.step(message('b', 'a', next, { type: 'prevote-resp', granted: true }), t);
  drain(a);
  a.step(message('b', 'a', next, { type: 'vote-resp', granted: true }), t);
  drain(a);
  assert.equal(a.status().role, 'leader');
}

function voteAnswer(b: RaftNode): { rd: 'messages' | 'messagesNow'; granted: boolean } | null {
  const rd = b.ready();
  b.advance(rd);
  for (const [where, list] of [['messages', rd.messages], ['messagesNow', rd.messagesNow]] as const) {
    const m = list.find((x: Message) => x.type === 'vote-resp');
    if (m?.type === 'vote-resp') return { rd: where, granted: m.granted };
  }
  return null;
}

const cases: { bug: keyof PlantedBugs; check: (bugs: PlantedBugs) => unknown }[] = [
  {
    bug: 'commitOldTermEntries',
    // Leader of term 4 holds an entry of term 2 that b acknowledges: a quorum stores it.
    check: (bugs) => {
      const a = loneNode('a', { restored: restoredWith(abc, 3, [cmd(2, 2)]), bugs });
      electA(a);
      a.step(message('b', 'a', 4, { type: 'append-resp', success: true, matchIndex: 2, hintIndex: 0, hintTerm: 0 }), a.nextWakeAt());
      return a.status().commitIndex;
    },
  },
  {
    bug: 'replyBeforeVoteDurable',
    check: (bugs) => {
      const b = loneNode('b', { restored: restoredWith(abc), bugs });
      b.step(message('c', 'b', 2, { type: 'vote', lastLogIndex: 1, lastLogTerm: 1, transfer: false }), LATE);
      return voteAnswer(b);
    },
  },
  {
    bug: 'grantVoteWithoutUpToDateCheck',
    // b holds index 2; c's log ends at index 1.
    check: (bugs) => {
      const b = loneNode('b', { restored: restoredWith(abc, 1, [cmd(2, 1)]), bugs });
      b.step(message('c', 'b', 2, { type: 'vote', lastLogIndex: 1, lastLogTerm: 1, transfer: false }), LATE);
      return voteAnswer(b);
    },
  },
  {
    bug: 'noVoterStickiness',
    // A vote request right after start.
    check: (bugs) => {
      const b = loneNode('b', { restored: restoredWith(abc), bugs });
      b.step(message('c', 'b', 2, { type: 'vote', lastLogIndex: 1, lastLogTerm: 1, transfer: false }), 1);
      return voteAnswer(b);
    },
  },
];

const expected: Record<keyof PlantedBugs, [unknown, unknown]> = {
  commitOldTermEntries: [1, 2],
  replyBeforeVoteDurable: [{ rd: 'messages', granted: true }, { rd: 'messagesNow', granted: true }],
  grantVoteWithoutUpToDateCheck: [{ rd: 'messages', granted: false }, { rd: 'messages', granted: true }],
  noVoterStickiness: [null, { rd: 'messages', granted: true }],
};

for (const { bug, check } of cases) {
  test(`planted bug ${bug} changes behaviour`, () => {
    const [correct, buggy] = expected[bug];
    assert.deepEqual(check({}), correct, 'without the bug');
    assert.deepEqual(check({ [bug]: true }), buggy, 'with the bug');
  });
}
