// One dense line per event: true time (ms), node, event. The trace is
// hashed as it is written, so two runs of a seed can be compared by hash;
// lines are kept only when someone asked to read them.
import type { Message } from '../../src/agent/consensus/types.js';
import { chainHash } from './hash.js';

export class Trace {
  hash = 0;
  lines = 0;
  /** The last lines, kept to explain a failure. */
  private readonly tail: string[] = [];

  constructor(
    /** Build and hash lines at all (off in batch runs, for speed). */
    readonly enabled: boolean,
    private readonly sink: ((line: string) => void) | null,
    private readonly keepTail: number,
  ) {}

  line(at: number, node: string, text: string): void {
    if (!this.enabled) return;
    const line = `${at.toFixed(3).padStart(10)} ${node.padEnd(4)} ${text}`;
    this.hash = chainHash(this.hash, line);
    this.lines++;
    this.sink?.(line);
    if (this.keepTail > 0) {
      this.tail.push(line);
      if (this.tail.length > this.keepTail) this.tail.shift();
    }
  }

  lastLines(): string[] {
    return [...this.tail];
  }
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case 'prevote':
    case 'vote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.type === 'vote' && m.transfer ? ' transfer' : ''}`;
    case 'prevote-resp':
    case 'vote-resp':
      return `${head} ${m.granted ? 'granted' : 'refused'}`;
    case 'append': {
      const n = m.entries.length;
      const range = n === 0 ? '' : ` ents=${m.entries[0]?.index}..${m.entries[n - 1]?.index}`;
      return `${head} prev=${m.prevIndex}/${m.prevTerm}${range} c=${m.commit}`;
    }
    case 'append-resp':
      return `${head} ${m.success ? 'ok' : 'reject'} match=${m.matchIndex} hint=${m.hintIndex}/${m.hintTerm}`;
    case 'snapshot':
      return `${head} snap=${m.snapshot.meta.index}/${m.snapshot.meta.term}`;
    case 'snapshot-resp':
      return `${head} match=${m.matchIndex}`;
    case 'heartbeat':
      return `${head} c=${m.commit} round=${m.round}`;
    case 'heartbeat-resp':
      return `${head} round=${m.round}`;
    case 'timeout-now':
      return head;
  }
}
