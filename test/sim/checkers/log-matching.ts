// Checker 3: Log Matching. If two logs hold an entry with the same index and
// term, they are identical up to it. Each node's log is tracked as prefix
// hashes (hash of every entry from index 1 up to i); the first prefix hash
// seen for (index, term) anywhere is the reference every later log must
// match. A snapshot's base takes the prefix hash of its last entry, which
// some log must have held.
import type { Entry, NodeId } from '../../../src/agent/consensus/types.js';
import { chainHash } from '../hash.js';
import type { Violation } from './violation.js';

/** One change to a node's log, as the store saw it. */
export type LogEvent = { at: number; node: NodeId } & (
  | { kind: 'append'; entries: Entry[] }
  | { kind: 'install'; index: number; term: number }
  | { kind: 'compact'; index: number; term: number }
  | { kind: 'reset'; base: { index: number; term: number }; entries: Entry[] }
);

export function entryText(e: Pick<Entry, 'term' | 'kind' | 'data'>): string {
  return `${e.term}|${e.kind}|${e.data}`;
}

interface TrackedLog {
  /** Snapshot base: index and term of the last compacted entry (0/0 for none). */
  baseIndex: number;
  baseTerm: number;
  /** Prefix hash at baseIndex, then one per entry after it. */
  hashes: number[];
  /** Term of each entry after baseIndex. */
  terms: number[];
}

interface Reference {
  hash: number;
  /** The node whose log held it first, and whether any other log held it since. */
  origin: NodeId;
  shared: boolean;
  term: number;
}

export class LogMatchingChecker {
  private readonly reference = new Map<string, Reference>();
  private readonly logs = new Map<NodeId, TrackedLog>();

  constructor() {
    this.reference.set('0:0', { hash: 0, origin: '', shared: true, term: 0 });
  }

  apply(e: LogEvent): Violation | null {
    switch (e.kind) {
      case 'append':
        return this.append(e.node, e.at, e.entries);
      case 'install':
        return this.installSnapshot(e.node, e.at, e.index, e.term);
      case 'compact':
        return this.compact(e.node, e.at, e.index, e.term);
      case 'reset':
        return this.reset(e.node, e.at, e.base, e.entries);
    }
  }

  /** Prefix hash of `node`'s log at `index`, if the log holds it (base included). */
  prefixHash(node: NodeId, index: number): number | undefined {
    const log = this.logs.get(node);
    if (log === undefined) return index === 0 ? 0 : undefined;
    return log.hashes[index - log.baseIndex];
  }

  lastIndex(node: NodeId): number {
    const log = this.logs.get(node);
    return log === undefined ? 0 : log.baseIndex + log.hashes.length - 1;
  }

  baseIndex(node: NodeId): number {
    return this.logs.get(node)?.baseIndex ?? 0;
  }

  /** Replaces `node`'s log (start or restart from its store). */
  reset(node: NodeId, at: number, base: { index: number; term: number }, entries: readonly Entry[]): Violation | null {
    const log = this.fresh(node, base.index, base.term);
    const ref = this.reference.get(`${base.index}:${base.term}`);
    if (ref === undefined) return this.unknownBase(node, at, base);
    log.hashes.push(ref.hash);
    return this.append(node, at, entries);
  }

  /** Duty 2: drop every entry with index >= entries[0].index, then append. */
  append(node: NodeId, at: number, entries: readonly Entry[]): Violation | null {
    const log = this.logs.get(node) ?? this.fresh(node, 0, 0, [0]);
    const first = entries[0];
    if (first === undefined) return null;
    const last = log.baseIndex + log.hashes.length - 1;
    if (first.index <= log.baseIndex || first.index > last + 1) {
      return { checker: 'log-matching', at, detail: `${node} appends at ${first.index} but its log holds ${log.baseIndex + 1}..${last}` };
    }
    log.hashes.length = first.index - log.baseIndex;
    log.terms.length = first.index - log.baseIndex - 1;
    for (const e of entries) {
      const expected = log.baseIndex + log.hashes.length;
      if (e.index !== expected) {
        return { checker: 'log-matching', at, detail: `${node} appends entry ${e.index} where ${expected} was due` };
      }
      const prevTerm = log.terms[log.terms.length - 1] ?? log.baseTerm;
      if (e.term < prevTerm) {
        return { checker: 'log-matching', at, detail: `${node} appends entry ${e.index} of term ${e.term} after term ${prevTerm}` };
      }
      const h = chainHash(log.hashes[log.hashes.length - 1] as number, entryText(e));
      const v = this.match(node, at, e.index, e.term, h);
      if (v !== null) return v;
      log.hashes.push(h);
      log.terms.push(e.term);
    }
    return null;
  }

  /** Duty 1: a snapshot from the leader replaces the whole log. */
  installSnapshot(node: NodeId, at: number, index: number, term: number): Violation | null {
    return this.reset(node, at, { index, term }, []);
  }

  /** The node compacted its log up to (index, term), which it must hold; later entries stay. */
  compact(node: NodeId, at: number, index: number, term: number): Violation | null {
    const log = this.logs.get(node);
    if (log === undefined || index <= log.baseIndex) return null;
    if (log.terms[index - log.baseIndex - 1] !== term) return null; // overtaken: the store ignores it too
    const drop = index - log.baseIndex;
    log.hashes.splice(0, drop);
    log.terms.splice(0, drop);
    log.baseIndex = index;
    log.baseTerm = term;
    return null;
  }

  private match(node: NodeId, at: number, index: number, term: number, h: number): Violation | null {
    const key = `${index}:${term}`;
    const ref = this.reference.get(key);
    if (ref === undefined) {
      this.reference.set(key, { hash: h, origin: node, shared: false, term });
      return null;
    }
    if (ref.origin !== node) ref.shared = true;
    if (ref.hash === h) return null;
    return { checker: 'log-matching', at, detail: `${node} holds entry ${index}/${term} whose log prefix differs from another node's` };
  }

  /**
   * `node` restarted in `term`, below terms it had reached: those terms were
   * never durable, so no message of theirs left it (replies wait for the
   * fsync) and a single-voter node may reuse them. The entries it alone
   * held from them are forgotten, so that reuse is not taken for a conflict.
   */
  forgetLostTerms(node: NodeId, term: number): void {
    for (const [key, ref] of this.reference) {
      if (ref.origin === node && !ref.shared && ref.term > term) this.reference.delete(key);
    }
  }

  private fresh(node: NodeId, baseIndex: number, baseTerm: number, hashes: number[] = []): TrackedLog {
    const log: TrackedLog = { baseIndex, baseTerm, hashes, terms: [] };
    this.logs.set(node, log);
    return log;
  }

  private unknownBase(node: NodeId, at: number, base: { index: number; term: number }): Violation {
    return { checker: 'log-matching', at, detail: `${node} has a snapshot at ${base.index}/${base.term}, an entry no log ever held` };
  }
}

export function checkLogMatching(history: readonly LogEvent[]): Violation | null {
  const checker = new LogMatchingChecker();
  for (const e of history) {
    const v = checker.apply(e);
    if (v !== null) return v;
  }
  return null;
}
