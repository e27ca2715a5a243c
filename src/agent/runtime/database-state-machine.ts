// Adapts the cluster database to the runtime's state-machine contract.
import { ClusterDatabase } from '../db/database.js';
import type { ReplicatedStateMachine } from './consensus-runtime.js';

export class DatabaseStateMachine implements ReplicatedStateMachine {
  /** @param onChange called after every apply and restore (the agent refreshes its peer table from it) */
  constructor(public db: ClusterDatabase, private readonly onChange?: () => void) {}

  apply(index: number, term: number, data: string): unknown {
    const result = this.db.apply(index, term, data);
    this.onChange?.();
    return result;
  }

  snapshot(): string {
    return this.db.snapshot();
  }

  /** Replaces the database with the snapshot's; throws E_CORRUPT_SNAPSHOT on a bad one. */
  restore(data: string): void {
    this.db = ClusterDatabase.restore(data);
    this.onChange?.();
  }
}
