// The simulated state machine: a tiny deterministic key/value register set.
// `command` entries carry {"op":"put","key","value","client","seq"}; noop and
// config entries leave it unchanged.
import type { Entry } from '../../src/agent/consensus/types.js';
import { hash53 } from './hash.js';

export interface PutCommand {
  op: 'put';
  key: string;
  value: string;
  client: string;
  seq: number;
}

export function encodePut(cmd: Omit<PutCommand, 'op'>): string {
  return JSON.stringify({ op: 'put', key: cmd.key, value: cmd.value, client: cmd.client, seq: cmd.seq });
}

export class KvStateMachine {
  private values = new Map<string, string>();
  private cachedHash: number | null = null;

  apply(entry: Entry): void {
    if (entry.kind !== 'command') return;
    const cmd = JSON.parse(entry.data) as PutCommand;
    if (cmd.op !== 'put') throw new Error(`unknown command ${entry.data}`);
    this.values.set(cmd.key, cmd.value);
    this.cachedHash = null;
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** Canonical serialization: keys sorted, so equal states serialize equally. */
  serialize(): string {
    const keys = [...this.values.keys()].sort();
    return JSON.stringify(keys.map((k) => [k, this.values.get(k)]));
  }

  restore(data: string): void {
    const pairs = data === '' ? [] : (JSON.parse(data) as [string, string][]);
    this.values = new Map(pairs);
    this.cachedHash = null;
  }

  hash(): number {
    this.cachedHash ??= hash53(this.serialize());
    return this.cachedHash;
  }
}
