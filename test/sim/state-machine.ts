// The simulated node's state machine: the key/value registers the clients
// use (kv.ts) and, in resource runs, the real cluster database, which holds
// the groups, resources, placements and resource states the controllers
// act on. A `command` entry is a put when it says `"op":"put"`, else a
// cluster database command envelope. Until the first database command is
// applied the snapshot is the registers' alone, as in runs without
// resources.
import type { Entry } from '../../src/agent/consensus/types.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';
import { chainHash, hash53 } from './hash.js';
import { KvStateMachine } from './kv.js';

interface CombinedSnapshot {
  kv: string;
  db: string;
  /** Chained hash of the database commands applied: cheaper to compare than the database's own hash. */
  chain: number;
}

export class SimStateMachine {
  private readonly kv = new KvStateMachine();
  private database: ClusterDatabase | null = null;
  private chain = 0;

  /** The cluster database; null until a database command was applied (or restored). */
  get db(): ClusterDatabase | null {
    return this.database;
  }

  apply(entry: Entry): void {
    if (entry.kind !== 'command') return;
    if (entry.data.startsWith('{"op":"put"')) return this.kv.apply(entry);
    this.database ??= new ClusterDatabase();
    this.database.apply(entry.index, entry.term, entry.data);
    this.chain = chainHash(this.chain, `${entry.index}:${entry.data}`);
  }

  get(key: string): string | null {
    return this.kv.get(key);
  }

  serialize(): string {
    if (this.database === null) return this.kv.serialize();
    const snap: CombinedSnapshot = { kv: this.kv.serialize(), db: this.database.snapshot(), chain: this.chain };
    return JSON.stringify(snap);
  }

  restore(data: string): void {
    if (!data.startsWith('{')) {
      this.kv.restore(data);
      this.database = null;
      this.chain = 0;
      return;
    }
    const snap = JSON.parse(data) as CombinedSnapshot;
    this.kv.restore(snap.kv);
    this.database = ClusterDatabase.restore(snap.db);
    this.chain = snap.chain;
  }

  hash(): number {
    return this.database === null ? this.kv.hash() : hash53(`${this.kv.hash()}|${this.chain}`);
  }
}
