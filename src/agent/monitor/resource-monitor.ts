// The resource monitor's work, inside the monitor process: run operations
// with deadlines, one at a time per resource, and watch online resources.
//
// - An operation past its deadline is aborted (the type kills what it
//   started; a plug-in's worker is terminated) and answered with E_DEADLINE
//   at the deadline, whether or not the type has let go yet, so a hung type
//   never holds up the resource's next operation.
// - Quick checks run every checkIntervals.quick ms, thorough ones every
//   checkIntervals.thorough ms; a failed quick check runs a thorough one at
//   once, and the thorough check decides. Only TRANSITIONS are reported
//   (healthy → failed, failed → healthy), never every check.
// - A type that sees its resource fail by itself (a process exited) reports
//   it through ctx.reportFailure, and the transition goes out at once.

import { mkdir } from 'node:fs/promises';
import { UndoJournal } from '../guard/undo-journal.js';
import { failure } from '../types/resource-type.js';
import type { OperationContext, OperationFailure, OperationName, OperationResult, ResourceType } from '../types/resource-type.js';
import { TypeRegistry } from '../types/type-registry.js';
import { deadlineFor } from './protocol.js';
import type { HealthSource, MonitorMessage, MonitorRequest, ResourceSpec } from './protocol.js';

type Check = 'quickCheck' | 'thoroughCheck';

interface Watched {
  spec: ResourceSpec;
  healthy: boolean;
  timers: Record<Check, NodeJS.Timeout | null>;
}

interface Slot {
  /** Tail of the chain of operations on the resource: they run one at a time. */
  tail: Promise<void>;
  /** Operations queued or running; a scheduled check is skipped while there are any. */
  queued: number;
  /** offline/terminate requests not yet finished: an online that completes meanwhile is not watched. */
  stopsPending: number;
  /** The running check's abort: an offline or terminate does not wait for a check. */
  checkAbort: AbortController | null;
  onlineRunning: boolean;
  /** A failure the type reported while online was still running. */
  failedDuringOnline: OperationFailure | null;
}

export class ResourceMonitor {
  private readonly types = new TypeRegistry();
  private readonly slots = new Map<string, Slot>();
  private readonly watched = new Map<string, Watched>();
  /** Resources that may be running here: an online was asked and no offline or terminate has succeeded since. */
  private readonly active = new Map<string, ResourceSpec>();

  constructor(private readonly send: (message: MonitorMessage) => void) {}

  handle(request: MonitorRequest): void {
    const { id, operation, resource: spec, deadlineMs } = request;
    const slot = this.slot(spec.name);
    const stopping = operation === 'offline' || operation === 'terminate';
    if (operation === 'online') this.active.set(spec.name, spec);
    if (stopping) {
      this.unwatch(spec.name);
      slot.stopsPending++;
      slot.checkAbort?.abort();
    }
    this.enqueue(spec.name, async () => {
      if (operation === 'online') slot.onlineRunning = true;
      const result = await this.run(operation, spec, deadlineMs, new AbortController());
      if (stopping) {
        slot.stopsPending--;
        if (result.ok) this.active.delete(spec.name);
      }
      if (operation === 'online') {
        slot.onlineRunning = false;
        const failedMeanwhile = slot.failedDuringOnline;
        slot.failedDuringOnline = null;
        if (result.ok && slot.stopsPending === 0) this.watch(spec, failedMeanwhile);
      }
      this.send({ kind: 'result', id, result });
    });
  }

  /** Terminates every resource that may be running here (the agent is gone), each within its stop deadline. */
  async terminateAll(): Promise<void> {
    for (const name of [...this.watched.keys()]) this.unwatch(name);
    await Promise.all([...this.active.values()].map((spec) => this.run('terminate', spec, spec.deadlines.stop, new AbortController())));
  }

  private slot(name: string): Slot {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = { tail: Promise.resolve(), queued: 0, stopsPending: 0, checkAbort: null, onlineRunning: false, failedDuringOnline: null };
      this.slots.set(name, slot);
    }
    return slot;
  }

  private enqueue(name: string, task: () => Promise<void>): void {
    const slot = this.slot(name);
    slot.queued++;
    slot.tail = slot.tail.then(task).catch((err: unknown) => {
      this.log('error', 'monitor task failed', { resource: name, err: String(err) });
    }).finally(() => {
      slot.queued--;
      if (slot.queued === 0 && !this.watched.has(name) && this.slots.get(name) === slot) this.slots.delete(name);
    });
  }

  /** Runs one operation, answering E_DEADLINE at the deadline and E_ABORTED when `abort` fires first. */
  private async run(operation: OperationName, spec: ResourceSpec, deadlineMs: number, abort: AbortController): Promise<OperationResult> {
    const type = this.types.get(spec.type);
    if ('ok' in type) return type;
    let ctx: OperationContext;
    try {
      await mkdir(spec.outputDir, { recursive: true, mode: 0o700 });
      ctx = this.context(spec, abort.signal, deadlineMs);
    } catch (err) {
      return failure('E_MONITOR_SETUP', `${spec.name}: ${(err as Error).message}`, 'hard');
    }
    return bounded(type, operation, ctx, abort, deadlineMs);
  }

  private context(spec: ResourceSpec, signal: AbortSignal, deadlineMs: number): OperationContext {
    const fields = { resource: spec.name };
    return {
      resource: spec.name,
      group: spec.group,
      params: spec.parameters,
      containment: spec.containment,
      outputDir: spec.outputDir,
      signal,
      deadlineMs,
      log: {
        info: (msg, extra) => this.log('info', msg, { ...fields, ...extra }),
        warn: (msg, extra) => this.log('warn', msg, { ...fields, ...extra }),
        error: (msg, extra) => this.log('error', msg, { ...fields, ...extra }),
      },
      undo: spec.undoStateDir === null ? null : new UndoJournal(spec.undoStateDir, spec.group),
      reportFailure: (result) => this.failedByItself(spec.name, result),
    };
  }

  private failedByItself(name: string, result: OperationFailure): void {
    const watched = this.watched.get(name);
    if (watched !== undefined) this.transition(watched, false, 'exit', result);
    else if (this.slots.get(name)?.onlineRunning === true) (this.slots.get(name) as Slot).failedDuringOnline = result;
  }

  private watch(spec: ResourceSpec, failedMeanwhile: OperationFailure | null): void {
    // An online of an online resource starts its checks afresh (with the spec it came with).
    this.unwatch(spec.name);
    const watched: Watched = { spec, healthy: true, timers: { quickCheck: null, thoroughCheck: null } };
    this.watched.set(spec.name, watched);
    this.schedule(watched, 'quickCheck');
    this.schedule(watched, 'thoroughCheck');
    if (failedMeanwhile !== null) this.transition(watched, false, 'exit', failedMeanwhile);
  }

  private unwatch(name: string): void {
    const watched = this.watched.get(name);
    if (watched === undefined) return;
    this.watched.delete(name);
    for (const timer of Object.values(watched.timers)) if (timer !== null) clearTimeout(timer);
  }

  private schedule(watched: Watched, check: Check): void {
    const interval = check === 'quickCheck' ? watched.spec.checkIntervals.quick : watched.spec.checkIntervals.thorough;
    if (interval <= 0) return;
    watched.timers[check] = setTimeout(() => this.runCheck(watched, check), interval);
  }

  private runCheck(watched: Watched, check: Check): void {
    const { name } = watched.spec;
    if (this.watched.get(name) !== watched) return;
    const pending = watched.timers[check];
    if (pending !== null) clearTimeout(pending);
    watched.timers[check] = null;
    const slot = this.slot(name);
    // Busy with an operation: this check waits for its next turn.
    if (slot.queued > 0) return this.schedule(watched, check);
    this.enqueue(name, async () => {
      const abort = new AbortController();
      slot.checkAbort = abort;
      const result = await this.run(check, watched.spec, deadlineFor(check, watched.spec), abort);
      slot.checkAbort = null;
      if (this.watched.get(name) !== watched) return;
      // The thorough check decides; a quick one only calls for it, in either direction.
      const decide = check === 'thoroughCheck';
      if (decide && result.ok !== watched.healthy) this.transition(watched, result.ok, check, result);
      if (!decide && result.ok !== watched.healthy) setImmediate(() => this.runCheck(watched, 'thoroughCheck'));
      this.schedule(watched, check);
    });
  }

  private transition(watched: Watched, healthy: boolean, source: HealthSource, result: OperationResult): void {
    if (watched.healthy === healthy) return;
    watched.healthy = healthy;
    this.send({ kind: 'health', resource: watched.spec.name, healthy, source, result });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    this.send({ kind: 'log', level, msg, fields });
  }
}

/** The operation's result, or E_DEADLINE at the deadline, or E_ABORTED if `abort` fires first. */
function bounded(type: ResourceType, operation: OperationName, ctx: OperationContext, abort: AbortController, deadlineMs: number): Promise<OperationResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(failure('E_DEADLINE', `${ctx.resource} ${operation} did not finish within its deadline of ${deadlineMs} ms`));
      abort.abort();
    }, deadlineMs);
    const aborted = (): void => resolve(failure('E_ABORTED', `${ctx.resource} ${operation} was cut short by an offline or terminate`));
    abort.signal.addEventListener('abort', aborted, { once: true });
    type[operation](ctx).then(
      (result) => resolve(result),
      (err: unknown) => resolve(failure('E_TYPE_ERROR', `${ctx.resource} ${operation}: ${err instanceof Error ? err.message : String(err)}`)),
    ).finally(() => {
      clearTimeout(timer);
      abort.signal.removeEventListener('abort', aborted);
    });
  });
}
