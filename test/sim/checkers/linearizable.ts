// Checker 6: the client history is linearizable. Keys are independent
// registers (P-compositionality), so each key is checked alone with the
// Wing & Gong search, memoised on (set of linearized ops, register value)
// as in Lowe's JIT linearizability checker and Knossos.
//
// A write whose outcome is unknown (timed out, its node crashed) has
// `complete: Infinity`: it may take effect at any point after its
// invocation, or never. An unknown write whose value no read returned can
// always be placed last, so it is dropped before the search.
import type { Violation } from './violation.js';

export interface ClientOp {
  client: string;
  key: string;
  kind: 'write' | 'read';
  /** The value written, or the value the read returned (null: never written). */
  value: string | null;
  /** True time (ms) of invocation and completion; completion Infinity when unknown. */
  invoke: number;
  complete: number;
}

export interface LinearizabilityResult {
  violation: Violation | null;
  /** Keys whose search hit the step budget (neither proven nor refuted). */
  inconclusiveKeys: string[];
}

/** Search steps allowed per key before giving up as inconclusive. */
const STEP_BUDGET = 2_000_000;

export function checkLinearizable(history: readonly ClientOp[]): LinearizabilityResult {
  const byKey = new Map<string, ClientOp[]>();
  for (const op of history) {
    const ops = byKey.get(op.key) ?? [];
    ops.push(op);
    byKey.set(op.key, ops);
  }
  const inconclusiveKeys: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const outcome = checkRegister(byKey.get(key) as ClientOp[]);
    if (outcome === 'inconclusive') inconclusiveKeys.push(key);
    else if (outcome !== null) {
      return { violation: { checker: 'linearizable', at: outcome.at, detail: `key ${key}: ${outcome.detail}` }, inconclusiveKeys };
    }
  }
  return { violation: null, inconclusiveKeys };
}

interface Failure {
  at: number;
  detail: string;
}

interface ListEntry {
  op: number;
  isCall: boolean;
  /** The call's return entry (null for a call of unknown outcome, and for return entries). */
  ret: ListEntry | null;
  prev: ListEntry | null;
  next: ListEntry | null;
}

function checkRegister(all: readonly ClientOp[]): Failure | 'inconclusive' | null {
  const written = new Set<string>();
  for (const op of all) if (op.kind === 'write' && op.value !== null) written.add(op.value);
  const read = new Set<string | null>();
  for (const op of all) {
    if (op.kind !== 'read') continue;
    if (op.value !== null && !written.has(op.value)) {
      return { at: op.complete, detail: `${op.client} read ${op.value}, which no client wrote` };
    }
    read.add(op.value);
  }
  const ops = all.filter((op) => op.kind === 'read' || op.complete !== Infinity || read.has(op.value));
  const head = buildList(ops);
  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const seen = new Set<string>();
  const stack: { entry: ListEntry; state: string | null }[] = [];
  let required = ops.filter((op) => op.complete !== Infinity).length;
  let state: string | null = null;
  let entry = head.next;
  let deepest = 0;
  let deepestStuck = 0;
  let stuck = -1;
  let steps = 0;
  while (required > 0) {
    if (++steps > STEP_BUDGET) return 'inconclusive';
    if (entry !== null && entry.isCall) {
      const op = ops[entry.op] as ClientOp;
      const ok = op.kind === 'write' || op.value === state;
      if (ok) {
        const next: string | null = op.kind === 'write' ? op.value : state;
        linearized[entry.op >> 5] = (linearized[entry.op >> 5] as number) | (1 << (entry.op & 31));
        const key = `${linearized.join(',')}|${next ?? '\u0000'}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          deepest = Math.max(deepest, stack.length);
          state = next;
          if (op.complete !== Infinity) required--;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op >> 5] = (linearized[entry.op >> 5] as number) & ~(1 << (entry.op & 31));
      }
      entry = entry.next;
      continue;
    }
    // A return whose call is not linearized, or the end of the list: backtrack.
    if (entry !== null && stack.length >= deepestStuck) {
      deepestStuck = stack.length;
      stuck = entry.op;
    }
    const top = stack.pop();
    if (top === undefined) return explain(ops, ops[stuck], deepest);
    const op = ops[top.entry.op] as ClientOp;
    linearized[top.entry.op >> 5] = (linearized[top.entry.op >> 5] as number) & ~(1 << (top.entry.op & 31));
    if (op.complete !== Infinity) required++;
    state = top.state;
    unlift(top.entry);
    entry = top.entry.next;
  }
  return null;
}

/** Calls and returns in time order; at equal times calls come first (overlap is the permissive reading). */
function buildList(ops: readonly ClientOp[]): ListEntry {
  const events: { at: number; isCall: boolean; op: number }[] = [];
  ops.forEach((op, i) => {
    events.push({ at: op.invoke, isCall: true, op: i });
    if (op.complete !== Infinity) events.push({ at: op.complete, isCall: false, op: i });
  });
  events.sort((a, b) => a.at - b.at || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: ListEntry = { op: -1, isCall: false, ret: null, prev: null, next: null };
  const calls = new Map<number, ListEntry>();
  let tail = head;
  for (const ev of events) {
    const e: ListEntry = { op: ev.op, isCall: ev.isCall, ret: null, prev: tail, next: null };
    tail.next = e;
    tail = e;
    if (ev.isCall) calls.set(ev.op, e);
    else (calls.get(ev.op) as ListEntry).ret = e;
  }
  return head;
}

function lift(call: ListEntry): void {
  unlink(call);
  if (call.ret !== null) unlink(call.ret);
}

function unlift(call: ListEntry): void {
  // Relink in reverse order of removal; the neighbours saved in each entry are still valid.
  if (call.ret !== null) relink(call.ret);
  relink(call);
}

function unlink(e: ListEntry): void {
  (e.prev as ListEntry).next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function relink(e: ListEntry): void {
  (e.prev as ListEntry).next = e;
  if (e.next !== null) e.next.prev = e;
}

function explain(ops: readonly ClientOp[], stuck: ClientOp | undefined, deepest: number): Failure {
  if (stuck === undefined) return { at: 0, detail: `no linearization of ${ops.length} ops` };
  const what = stuck.kind === 'write' ? `write ${stuck.value}` : `read -> ${stuck.value ?? 'null'}`;
  return {
    at: stuck.complete,
    detail: `no linearization of ${ops.length} ops: ${stuck.client} ${what} [${stuck.invoke.toFixed(3)}, ${stuck.complete.toFixed(3)}] ` +
      `cannot take effect (deepest partial linearization: ${deepest} ops)`,
  };
}
