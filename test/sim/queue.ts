// The simulator's event queue: a binary min-heap ordered by true time (ms),
// ties broken by insertion order so that a seed replays exactly.

interface Slot<T> {
  at: number;
  seq: number;
  item: T;
}

export class EventQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const slot = { at, seq: this.seq++, item };
    const heap = this.heap;
    heap.push(slot);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Slot<T>;
      if (!before(slot, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.heap[0]?.at ?? Infinity;
  }

  pop(): { at: number; item: T } | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Slot<T>;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        const left = heap[l];
        if (left !== undefined && before(left, best)) {
          m = l;
          best = left;
        }
        const right = heap[r];
        if (right !== undefined && before(right, best)) {
          m = r;
          best = right;
        }
        if (m === i) break;
        heap[i] = best;
        i = m;
      }
      heap[i] = last;
    }
    return { at: top.at, item: top.item };
  }
}

function before<T>(x: Slot<T>, y: Slot<T>): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
