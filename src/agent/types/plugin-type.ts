// The `plugin` type: a JavaScript module implementing ResourceType, named by
// absolute path or package name, run in a worker thread of its own per
// resource, so that a hung call on one resource touches no other. At an
// operation's deadline the plug-in's AbortSignal fires; if the call has not
// settled ABORT_GRACE_MS later the worker is terminated (worker.terminate()
// stops even a busy loop) and the next call starts a fresh one.

import { Worker } from 'node:worker_threads';
import type { Containment } from './cgroup-entry.js';
import { failure } from './resource-type.js';
import type {
  OperationContext, OperationFailure, OperationName, OperationResult, ParameterProblem, ResourceType, TypeDescription, UndoEntry,
} from './resource-type.js';

/** Time a plug-in gets to settle after its AbortSignal fired before its worker is terminated, in ms. */
export const ABORT_GRACE_MS = 1000;
/** Time describe and validate may take, in ms. */
const QUERY_DEADLINE_MS = 10_000;

/** The context fields that cross to the worker (the rest is rebuilt there). */
export interface ContextData {
  resource: string;
  group: string;
  params: Record<string, string>;
  containment: Containment | null;
  outputDir: string;
  deadlineMs: number;
  hasUndo: boolean;
}

export type PluginMethod = 'describe' | 'validate' | OperationName;

export type ToPlugin =
  | { kind: 'call'; id: number; method: PluginMethod; params?: Record<string, string>; ctx?: ContextData }
  | { kind: 'abort'; id: number }
  | { kind: 'undo-done'; id: number; error: string | null };

export type FromPlugin =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  | { kind: 'failure'; resource: string; result: OperationFailure }
  | { kind: 'undo'; id: number; entry: UndoEntry };

type Settle = (outcome: { value: unknown } | { error: string }) => void;

/** One worker running the plug-in module. */
class PluginWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Settle>();
  private nextId = 1;
  /** The latest context of an operation: where logs, failures and undo calls go. */
  ctx: OperationContext | null = null;
  exited = false;
  /** A call of it overran its deadline: it takes no more calls and is terminated once that call settles or the grace ends. */
  retired = false;

  constructor(source: string, onExit: () => void) {
    this.worker = new Worker(new URL('./plugin-worker.js', import.meta.url), { workerData: { source } });
    // What keeps the monitor alive is its channel to the agent, not a plug-in.
    this.worker.unref();
    this.worker.on('message', (message: FromPlugin) => this.receive(message));
    this.worker.on('error', (err) => this.fail(`plug-in worker failed: ${err.message}`));
    this.worker.once('exit', () => {
      this.exited = true;
      this.fail('plug-in worker exited');
      onExit();
    });
  }

  call(method: PluginMethod, payload: { params?: Record<string, string>; ctx?: ContextData }, signal: AbortSignal): Promise<{ value: unknown } | { error: string }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.retired = true;
        this.worker.postMessage({ kind: 'abort', id } satisfies ToPlugin);
        timer = setTimeout(() => void this.terminate(), ABORT_GRACE_MS);
      };
      this.pending.set(id, (outcome) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.retired) void this.terminate();
        resolve(outcome);
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.worker.postMessage({ kind: 'call', id, method, ...payload } satisfies ToPlugin);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(message: FromPlugin): void {
    if (message.kind === 'result' || message.kind === 'error') {
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message.kind === 'result' ? { value: message.value } : { error: message.message });
    } else if (message.kind === 'log') {
      this.ctx?.log[message.level](message.msg, message.fields);
    } else if (message.kind === 'failure') {
      this.ctx?.reportFailure(message.result);
    } else {
      const journal = this.ctx?.undo;
      const done = (error: string | null): void => this.worker.postMessage({ kind: 'undo-done', id: message.id, error } satisfies ToPlugin);
      if (journal === null || journal === undefined) done('no undo journal');
      else journal.record(message.entry).then(() => done(null), (err: Error) => done(err.message));
    }
  }

  private fail(why: string): void {
    for (const settle of this.pending.values()) settle({ error: why });
    this.pending.clear();
  }
}

export class PluginResourceType implements ResourceType {
  /** One worker per resource, started on first use. */
  private readonly workers = new Map<string, PluginWorker>();

  constructor(readonly source: string) {}

  async describe(): Promise<TypeDescription> {
    return (await this.query('describe', {})) as TypeDescription;
  }

  async validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]> {
    return (await this.query('validate', { params: { ...params } })) as ParameterProblem[];
  }

  online(ctx: OperationContext): Promise<OperationResult> {
    return this.operate('online', ctx);
  }

  /** Offline and terminate end the resource's worker once they succeed: nothing is left to check. */
  async offline(ctx: OperationContext): Promise<OperationResult> {
    return this.finish(ctx, await this.operate('offline', ctx));
  }

  async terminate(ctx: OperationContext): Promise<OperationResult> {
    return this.finish(ctx, await this.operate('terminate', ctx));
  }

  quickCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.operate('quickCheck', ctx);
  }

  thoroughCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.operate('thoroughCheck', ctx);
  }

  private async operate(method: OperationName, ctx: OperationContext): Promise<OperationResult> {
    let worker = this.workers.get(ctx.resource);
    if (worker === undefined || worker.exited || worker.retired) {
      const started: PluginWorker = new PluginWorker(this.source, () => {
        if (this.workers.get(ctx.resource) === started) this.workers.delete(ctx.resource);
      });
      worker = started;
      this.workers.set(ctx.resource, worker);
    }
    worker.ctx = ctx;
    const data: ContextData = {
      resource: ctx.resource, group: ctx.group, params: { ...ctx.params }, containment: ctx.containment,
      outputDir: ctx.outputDir, deadlineMs: ctx.deadlineMs, hasUndo: ctx.undo !== null,
    };
    const outcome = await worker.call(method, { ctx: data }, ctx.signal);
    if ('error' in outcome) {
      if (ctx.signal.aborted) return failure('E_DEADLINE', `plug-in ${method} did not finish by its deadline: ${outcome.error}`);
      return failure('E_PLUGIN_ERROR', `plug-in ${method}: ${outcome.error}`);
    }
    return resultOf(outcome.value, method);
  }

  private async finish(ctx: OperationContext, result: OperationResult): Promise<OperationResult> {
    const worker = this.workers.get(ctx.resource);
    if (result.ok && worker !== undefined) {
      this.workers.delete(ctx.resource);
      await worker.terminate();
    }
    return result;
  }

  /** describe and validate run in a short-lived worker of their own. */
  private async query(method: 'describe' | 'validate', payload: { params?: Record<string, string> }): Promise<unknown> {
    const worker = new PluginWorker(this.source, () => undefined);
    try {
      const outcome = await worker.call(method, payload, AbortSignal.timeout(QUERY_DEADLINE_MS));
      if ('error' in outcome) throw new Error(`plug-in ${this.source} ${method}: ${outcome.error}`);
      return outcome.value;
    } finally {
      await worker.terminate();
    }
  }
}

/** A plug-in's answer, checked: anything but a well-formed result is a plug-in error. */
function resultOf(value: unknown, method: string): OperationResult {
  const v = value as { ok?: unknown; code?: unknown; message?: unknown; severity?: unknown } | null;
  if (v !== null && typeof v === 'object' && v.ok === true) return { ok: true };
  if (v !== null && typeof v === 'object' && v.ok === false && typeof v.code === 'string' && typeof v.message === 'string') {
    const severity = v.severity === 'hard' || v.severity === 'fatal' ? v.severity : 'soft';
    return failure(v.code, v.message, severity);
  }
  return failure('E_PLUGIN_ERROR', `plug-in ${method} returned ${JSON.stringify(value)?.slice(0, 100) ?? 'nothing'}, not a result`);
}
