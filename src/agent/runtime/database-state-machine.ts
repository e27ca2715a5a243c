// Adapts the cluster database to the runtime's state-machine contract.
import { ClusterDatabase } from '../db/database.js';
import type { ReplicatedStateMachine } from './consensus-runtime.js';
import type { Steps } from '../db/snapshot.js';

export class DatabaseStateMachine implements ReplicatedStateMachine {
  /** @param onChange called after every apply and restore (the agent refreshes its peer table from it) */
  constructor(public db: ClusterDatabase, private readonly onChange?: () => void) {}

  apply(index: number, term: number, data: string): unknown {
    const result = this.db.apply(index, term, data);
    this.onChange?.();
    return result;
  }

  snapshot(): Steps<string> {
    return this.db.snapshotInSteps();
  }

  /** Replaces the database with the snapshot's at the last step; a step throws E_CORRUPT_SNAPSHOT on a bad one. */
  restore(data: string): Steps<void> {
    const reading = ClusterDatabase.restoreInSteps(data);
    return {
      step: (budget) => {
        if (!reading.step(budget)) return false;
        this.db = reading.result();
        this.onChange?.();
        return true;
      },
      result: () => undefined,
    };
  }
}
