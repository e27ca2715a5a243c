// Worker-thread entry of a plug-in resource type: loads the module named in
// workerData and answers calls from PluginResourceType. It runs plug-in
// code only; a hung call is ended from outside with worker.terminate().

import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { OPERATION_NAMES } from './resource-type.js';
import type { OperationContext, ResourceType, UndoEntry } from './resource-type.js';
import type { ToPlugin, FromPlugin } from './plugin-type.js';

const port = parentPort;
if (port === null) throw new Error('plugin-worker.ts runs only as a worker thread');

function post(message: FromPlugin): void {
  port?.postMessage(message);
}

const METHODS = ['describe', 'validate', ...OPERATION_NAMES] as const;

async function load(source: string): Promise<ResourceType> {
  const specifier = source.startsWith('/') ? pathToFileURL(source).href : source;
  const module = (await import(specifier)) as { default?: unknown };
  const candidate = (module.default ?? module) as Record<string, unknown>;
  const missing = METHODS.filter((m) => typeof candidate[m] !== 'function');
  if (missing.length > 0) throw new Error(`${source} does not implement the resource type interface: missing ${missing.join(', ')}`);
  return candidate as unknown as ResourceType;
}

const plugin = load((workerData as { source: string }).source);
// A module that cannot be loaded never will be: answer the call that found out, then end this worker
// (process.exit in a worker ends only the worker); the next call starts a fresh one.
plugin.catch(() => setImmediate(() => process.exit(1)));
const aborts = new Map<number, AbortController>();
const undoCalls = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
let nextUndo = 1;

function recordUndo(entry: UndoEntry): Promise<void> {
  const id = nextUndo++;
  return new Promise((resolve, reject) => {
    undoCalls.set(id, { resolve, reject });
    post({ kind: 'undo', id, entry });
  });
}

async function handleCall(message: Extract<ToPlugin, { kind: 'call' }>): Promise<void> {
  try {
    const type = await plugin;
    let value: unknown;
    if (message.method === 'describe') value = await type.describe();
    else if (message.method === 'validate') value = await type.validate(message.params ?? {});
    else {
      const data = message.ctx;
      if (data === undefined) throw new Error(`${message.method} needs a context`);
      const controller = new AbortController();
      aborts.set(message.id, controller);
      const { hasUndo, ...fields } = data;
      const ctx: OperationContext = {
        ...fields,
        signal: controller.signal,
        log: {
          info: (msg, fields) => post({ kind: 'log', level: 'info', msg, fields: fields ?? {} }),
          warn: (msg, fields) => post({ kind: 'log', level: 'warn', msg, fields: fields ?? {} }),
          error: (msg, fields) => post({ kind: 'log', level: 'error', msg, fields: fields ?? {} }),
        },
        undo: hasUndo ? { record: recordUndo } : null,
        reportFailure: (result) => post({ kind: 'failure', resource: data.resource, result }),
      };
      value = await type[message.method](ctx);
    }
    post({ kind: 'result', id: message.id, value });
  } catch (err) {
    post({ kind: 'error', id: message.id, message: err instanceof Error ? err.message : String(err) });
  } finally {
    aborts.delete(message.id);
  }
}

port.on('message', (message: ToPlugin) => {
  if (message.kind === 'call') void handleCall(message);
  else if (message.kind === 'abort') aborts.get(message.id)?.abort(new Error('E_DEADLINE'));
  else {
    const call = undoCalls.get(message.id);
    undoCalls.delete(message.id);
    if (message.error === null) call?.resolve();
    else call?.reject(new Error(message.error));
  }
});
