// The linearizability checker on hand-made register histories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable } from './checkers/linearizable.js';
import type { ClientOp } from './checkers/linearizable.js';

const w = (client: string, value: string, invoke: number, complete: number, key = 'k'): ClientOp => ({ client, key, kind: 'write', value, invoke, complete });
const r = (client: string, value: string | null, invoke: number, complete: number, key = 'k'): ClientOp => ({ client, key, kind: 'read', value, invoke, complete });

test('sequential and overlapping histories that have a linearization pass', () => {
  assert.equal(checkLinearizable([w('a', '1', 0, 10), r('b', '1', 20, 30), w('a', '2', 40, 50), r('b', '2', 60, 70)]).violation, null);
  // The read overlaps the write: it may see the old or the new value.
  assert.equal(checkLinearizable([w('a', '1', 0, 10), w('a', '2', 20, 50), r('b', '1', 25, 30)]).violation, null);
  assert.equal(checkLinearizable([w('a', '1', 0, 10), w('a', '2', 20, 50), r('b', '2', 25, 30)]).violation, null);
  // Nothing written yet: null.
  assert.equal(checkLinearizable([r('b', null, 0, 5), w('a', '1', 10, 20)]).violation, null);
  // Two concurrent writes, then reads that agree on an order.
  assert.equal(checkLinearizable([w('a', '1', 0, 30), w('b', '2', 5, 35), r('c', '1', 40, 45), r('c', '1', 50, 55)]).violation, null);
});

test('a stale read after a completed write fails', () => {
  const v = checkLinearizable([w('a', '1', 0, 10), w('a', '2', 20, 30), r('b', '1', 40, 50)]).violation;
  assert.equal(v?.checker, 'linearizable');
  assert.match(v?.detail ?? '', /key k/);
});

test('reads going back in time fail even when each alone could be right', () => {
  const v = checkLinearizable([w('a', '1', 0, 10), w('a', '2', 20, 100), r('b', '2', 30, 40), r('c', '1', 50, 60)]).violation;
  assert.equal(v?.checker, 'linearizable');
});

test('a read of a value nobody wrote fails', () => {
  assert.equal(checkLinearizable([r('b', 'ghost', 0, 5)]).violation?.checker, 'linearizable');
});

test('a write of unknown outcome may take effect late or never', () => {
  const unknown = w('a', '9', 10, Infinity);
  // Never observed: as if it never happened.
  assert.equal(checkLinearizable([w('a', '1', 0, 5), unknown, r('b', '1', 100, 110)]).violation, null);
  // Observed long after its client gave up: it took effect late.
  assert.equal(checkLinearizable([w('a', '1', 0, 5), unknown, r('b', '9', 100, 110)]).violation, null);
  // But not before it was invoked.
  assert.equal(checkLinearizable([w('a', '1', 0, 5), r('b', '9', 6, 8), unknown]).violation?.checker, 'linearizable');
  // And once seen and then overwritten, it cannot come back.
  const back = checkLinearizable([unknown, r('b', '9', 20, 30), w('a', '3', 40, 50), r('b', '9', 60, 70)]);
  assert.equal(back.violation?.checker, 'linearizable');
});

test('keys are independent registers', () => {
  const history = [w('a', '1', 0, 10, 'x'), w('a', '2', 0, 10, 'y'), r('b', '1', 20, 30, 'x'), r('b', '2', 20, 30, 'y')];
  assert.equal(checkLinearizable(history).violation, null);
  const crossed = [w('a', '1', 0, 10, 'x'), r('b', '1', 20, 30, 'y')];
  assert.equal(checkLinearizable(crossed).violation?.checker, 'linearizable');
});

test('a long history with many overlapping operations is checked without running out of budget', () => {
  const ops: ClientOp[] = [];
  for (let i = 0; i < 200; i++) {
    const t = i * 10;
    ops.push(w(`c${i % 4}`, `v${i}`, t, t + 25));
    ops.push(r(`r${i % 3}`, `v${i}`, t + 26, t + 30));
  }
  const res = checkLinearizable(ops);
  assert.equal(res.violation, null);
  assert.deepEqual(res.inconclusiveKeys, []);
});
