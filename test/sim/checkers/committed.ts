// Checker 4: committed entries are never lost or changed.
// - Every entry a node applies (Ready.committed) is recorded by index the
//   first time; every later report of that index must be the same entry.
// - Leader Completeness: an entry first reported committed by a node in term
//   T is in the log (or snapshot) of every leader of a term above T. The
//   reporter's term is at least the term in which the entry was committed,
//   so this never blames a legitimate stale leader.
// - A snapshot at index s covers exactly the committed entries up to s.
import type { Entry, NodeId } from '../../../src/agent/consensus/types.js';
import { chainHash } from '../hash.js';
import { entryText, LogMatchingChecker } from './log-matching.js';
import type { LogEvent } from './log-matching.js';
import type { Violation } from './violation.js';

interface CommittedRecord {
  text: string;
  /** Hash of every committed entry from index 1 to this one (same chaining as the log checker). */
  prefixHash: number;
  /** Term of the node that first reported it committed. */
  reportedInTerm: number;
}

/** What the checker needs to know about a leader's log. */
export interface LogView {
  /** Prefix hash at `index`, or undefined when the log does not hold it. */
  prefixHash(index: number): number | undefined;
  /** Index of the snapshot the log starts after. */
  baseIndex: number;
}

export class CommittedChecker {
  private readonly records: (CommittedRecord | undefined)[] = [];

  get highestCommitted(): number {
    return this.records.length - 1;
  }

  /** Prefix hash of the committed entries up to `index` (0 → 0). */
  committedPrefix(index: number): number | undefined {
    return index === 0 ? 0 : this.records[index]?.prefixHash;
  }

  /** A node applied `entry` while in `nodeTerm`. */
  applied(node: NodeId, at: number, entry: Entry, nodeTerm: number): Violation | null {
    const text = entryText(entry);
    const known = this.records[entry.index];
    if (known !== undefined) {
      if (known.text === text) return null;
      return { checker: 'committed', at, detail: `${node} applied ${entry.index} as ${short(text)} but it was committed as ${short(known.text)}` };
    }
    const prev = this.committedPrefix(entry.index - 1);
    if (prev === undefined) {
      return { checker: 'committed', at, detail: `${node} applied ${entry.index} before any node applied ${entry.index - 1}` };
    }
    this.records[entry.index] = { text, prefixHash: chainHash(prev, text), reportedInTerm: nodeTerm };
    return null;
  }

  /** A snapshot at `index` (its prefix hash from the log checker) must cover the committed entries. */
  snapshot(node: NodeId, at: number, index: number, prefixHash: number | undefined): Violation | null {
    const committed = this.committedPrefix(index);
    if (committed === undefined) {
      return { checker: 'committed', at, detail: `${node} holds a snapshot at ${index}, beyond what any node applied` };
    }
    if (prefixHash === committed) return null;
    return { checker: 'committed', at, detail: `${node} holds a snapshot at ${index} that differs from the committed entries` };
  }

  /** Highest index first reported committed in a term below `term`. */
  requiredOfLeader(term: number): number {
    for (let i = this.records.length - 1; i > 0; i--) {
      const r = this.records[i];
      if (r !== undefined && r.reportedInTerm < term) return i;
    }
    return 0;
  }

  /** Leader Completeness for `node`, leader of `term`. */
  leaderHolds(node: NodeId, at: number, term: number, log: LogView): Violation | null {
    const required = this.requiredOfLeader(term);
    if (required === 0) return null;
    // A snapshot past `required` contains it; the snapshot itself was checked on install.
    const probe = Math.max(required, log.baseIndex);
    const have = log.prefixHash(probe);
    const want = this.committedPrefix(probe);
    if (have !== undefined && want !== undefined && have === want) return null;
    return {
      checker: 'committed',
      at,
      detail: `${node} is leader of term ${term} but its log lacks or differs at committed index ${probe} (committed before term ${term})`,
    };
  }
}

function short(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** What the committed checker observes: log changes, applied entries, and leaders. */
export type CommitEvent =
  | { kind: 'log'; event: LogEvent }
  | { kind: 'applied'; at: number; node: NodeId; entry: Entry; nodeTerm: number }
  | { kind: 'leader'; at: number; node: NodeId; term: number };

export function checkCommitted(history: readonly CommitEvent[]): Violation | null {
  const logs = new LogMatchingChecker();
  const committed = new CommittedChecker();
  for (const e of history) {
    let v: Violation | null;
    if (e.kind === 'log') {
      v = logs.apply(e.event);
      if (v === null && e.event.kind === 'install') {
        const { node, at, index } = e.event;
        v = committed.snapshot(node, at, index, logs.prefixHash(node, index));
      }
    } else if (e.kind === 'applied') {
      v = committed.applied(e.node, e.at, e.entry, e.nodeTerm);
    } else {
      const node = e.node;
      v = committed.leaderHolds(node, e.at, e.term, { prefixHash: (i) => logs.prefixHash(node, i), baseIndex: logs.baseIndex(node) });
    }
    if (v !== null) return v;
  }
  return null;
}
