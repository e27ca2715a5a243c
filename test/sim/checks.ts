// The checkers that run after every step, wired to what the world sees:
// node starts and crashes, store writes, applied entries, messages on the
// wire, and each node's status after every event. (Linearizability of the
// client history is checked once, at the end of the run.)
import type { Entry, Message, NodeId, RaftStatus, RestoredState } from '../../src/agent/consensus/types.js';
import { AppliedStateChecker } from './checkers/applied-state.js';
import { CommittedChecker } from './checkers/committed.js';
import { DurablePromisesChecker } from './checkers/durable-promises.js';
import { LeaderPerTermChecker } from './checkers/leaders.js';
import { LeaseChecker } from './checkers/lease.js';
import { LogMatchingChecker } from './checkers/log-matching.js';
import type { Violation } from './checkers/violation.js';
import type { SimClock } from './clock.js';
import type { StoreWrite } from './disk.js';

export class Checks {
  private readonly leaders = new LeaderPerTermChecker();
  private readonly leases = new LeaseChecker();
  private readonly logs = new LogMatchingChecker();
  private readonly committed = new CommittedChecker();
  private readonly appliedState = new AppliedStateChecker();
  private readonly promises = new DurablePromisesChecker();
  /** (term, node) pairs already seen leading; Leader Completeness is checked once for each. */
  private readonly leadersSeen = new Set<string>();

  constructor(private readonly report: (v: Violation) => void) {}

  /** Elections won so far: distinct (term, leader) pairs. */
  get elections(): number {
    return this.leaders.elections;
  }

  get highestCommitted(): number {
    return this.committed.highestCommitted;
  }

  /** `node` (re)started from `restored`; its state machine hash is `stateHash`. */
  started(node: NodeId, at: number, restored: RestoredState, stateHash: number): void {
    const snap = restored.snapshot;
    const base = { index: snap?.meta.index ?? 0, term: snap?.meta.term ?? 0 };
    this.check(this.promises.restarted(node, at, restored.hardState));
    this.logs.forgetLostTerms(node, restored.hardState.term);
    this.check(this.logs.apply({ kind: 'reset', at, node, base, entries: restored.entries }));
    this.check(this.appliedState.restored(node, at, base.index, stateHash));
    if (snap !== null) this.check(this.committed.snapshot(node, at, base.index, this.logs.prefixHash(node, base.index)));
  }

  /** `node` crashed or shut down: it holds no lease any more. */
  down(node: NodeId, at: number): void {
    this.check(this.leases.observe({ at, node, isLeader: false, leaseUntilTrue: -Infinity }));
  }

  sent(msg: Message): void {
    this.promises.sent(msg);
  }

  wrote(node: NodeId, at: number, w: StoreWrite): void {
    switch (w.kind) {
      case 'entries':
        return this.check(this.logs.apply({ kind: 'append', at, node, entries: w.entries }));
      case 'hard-state':
        return;
      case 'snapshot': {
        const { index, term } = w.snapshot.meta;
        this.check(this.logs.apply({ kind: 'install', at, node, index, term }));
        return this.check(this.committed.snapshot(node, at, index, this.logs.prefixHash(node, index)));
      }
      case 'compact': {
        const { index, term } = w.snapshot.meta;
        return this.check(this.logs.apply({ kind: 'compact', at, node, index, term }));
      }
    }
  }

  snapshotRestored(node: NodeId, at: number, index: number, stateHash: number): void {
    this.check(this.appliedState.restored(node, at, index, stateHash));
  }

  applied(node: NodeId, at: number, entry: Entry, nodeTerm: number, stateHash: number): void {
    this.check(this.committed.applied(node, at, entry, nodeTerm));
    this.check(this.appliedState.applied(node, at, entry.index, stateHash));
  }

  /**
   * `node`'s status after an event; returns true the first time it is seen
   * leading this term. Leader Completeness is judged on the node's store, so
   * it waits until the store holds everything the core has handed out
   * (`storeCurrent`).
   */
  observed(node: NodeId, at: number, st: RaftStatus, clock: SimClock, storeCurrent: boolean): boolean {
    this.check(this.leaders.observe({ at, node, term: st.term, role: st.role }));
    const isLeader = st.role === 'leader';
    const until = isLeader && st.leaderLeaseUntil !== -Infinity ? clock.trueAt(st.leaderLeaseUntil) : -Infinity;
    this.check(this.leases.observe({ at, node, isLeader, leaseUntilTrue: until }));
    const key = `${st.term}:${node}`;
    if (!isLeader || !storeCurrent || this.leadersSeen.has(key)) return false;
    this.leadersSeen.add(key);
    const view = { prefixHash: (i: number) => this.logs.prefixHash(node, i), baseIndex: this.logs.baseIndex(node) };
    this.check(this.committed.leaderHolds(node, at, st.term, view));
    return true;
  }

  private check(v: Violation | null): void {
    if (v !== null) this.report(v);
  }
}
