// Checker 7 (durability of replies): a node persists term and vote before
// any message that depends on them. Judged from outside: every message a
// node puts on the wire is a promise, and the state it restarts from after
// a crash must keep it.
// - A granted vote in term T for X: on restart term > T, or term T with vote X.
// - Any message carrying term T (pre-vote traffic aside, whose term is only
//   proposed): on restart term >= T.
import type { HardState, Message, NodeId } from '../../../src/agent/consensus/types.js';
import type { Violation } from './violation.js';

interface Promises {
  term: number;
  vote: { term: number; for: NodeId } | null;
}

export class DurablePromisesChecker {
  private readonly promises = new Map<NodeId, Promises>();

  /** `msg` left `msg.from` (handed to the network). */
  sent(msg: Message): void {
    if (msg.type === 'prevote' || msg.type === 'prevote-resp') return;
    const p = this.promises.get(msg.from) ?? { term: 0, vote: null };
    p.term = Math.max(p.term, msg.term);
    if (msg.type === 'vote-resp' && msg.granted && (p.vote === null || p.vote.term < msg.term)) {
      p.vote = { term: msg.term, for: msg.to };
    }
    this.promises.set(msg.from, p);
  }

  /** `node` restarted from `hs`. */
  restarted(node: NodeId, at: number, hs: HardState): Violation | null {
    const p = this.promises.get(node);
    if (p === undefined) return null;
    if (hs.term < p.term) {
      return { checker: 'durable-promises', at, detail: `${node} restarted in term ${hs.term} after sending messages of term ${p.term}` };
    }
    const vote = p.vote;
    if (vote !== null && hs.term === vote.term && hs.votedFor !== vote.for) {
      return {
        checker: 'durable-promises',
        at,
        detail: `${node} granted its vote in term ${vote.term} to ${vote.for} but restarted with vote ${hs.votedFor ?? 'none'}`,
      };
    }
    return null;
  }
}

export type PromiseEvent = { kind: 'sent'; msg: Message } | { kind: 'restarted'; at: number; node: NodeId; hardState: HardState };

export function checkDurablePromises(history: readonly PromiseEvent[]): Violation | null {
  const checker = new DurablePromisesChecker();
  for (const e of history) {
    if (e.kind === 'sent') checker.sent(e.msg);
    else {
      const v = checker.restarted(e.node, e.at, e.hardState);
      if (v !== null) return v;
    }
  }
  return null;
}
