// The relay's control interface: JSON lines over a Unix socket, one response
// line per request line, in order.
//   {"op":"cut","node":"n2"}            {"op":"cut","node":"n2","mode":"silent"}
//   {"op":"heal","node":"n2"}           {"op":"status"}
//   {"op":"cut","node":"n1","peer":"n2"}  {"op":"heal","node":"n1","peer":"n2"}   (a pair: only n1-n2 links)
// → {"ok":true,"nodes":[RelayNodeStatus...]}   (cut/heal: the node's status; status: all)
// → {"ok":false,"code":"E_INVALID"|"E_NOT_FOUND","message":"...","problems":[...]}
// A bad request gets an error line; it never takes the relay down.
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { LabError, errnoCode } from './lab-error.js';
import type { LabErrorCode } from './lab-error.js';
import type { CutMode, Relay, RelayNodeStatus } from './relay.js';

export type ControlRequest =
  | { op: 'cut'; node: string; mode?: CutMode; peer?: string }
  | { op: 'heal'; node: string; peer?: string }
  | { op: 'status' };

export type ControlResponse =
  | { ok: true; nodes: RelayNodeStatus[] }
  | { ok: false; code: LabErrorCode; message: string; problems: string[] };

/** A request line longer than this (bytes) is refused and its connection closed: no unbounded buffering. */
const MAX_LINE_BYTES = 64 * 1024;

export function parseControlRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new LabError('E_INVALID', 'control request', [`not JSON: ${(err as Error).message}`]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LabError('E_INVALID', 'control request', ['expected a JSON object']);
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const known = new Set(['op', 'node', 'mode', 'peer']);
  for (const key of Object.keys(v)) if (!known.has(key)) problems.push(`unknown field ${key}`);
  if (v.op !== 'cut' && v.op !== 'heal' && v.op !== 'status') problems.push(`op: expected cut, heal or status, got ${JSON.stringify(v.op)}`);
  if (v.op === 'cut' || v.op === 'heal') {
    if (typeof v.node !== 'string' || v.node === '') problems.push('node: expected a node name');
  } else if (v.node !== undefined) problems.push(`node: not used by ${String(v.op)}`);
  if (v.mode !== undefined && (v.op !== 'cut' || (v.mode !== 'reset' && v.mode !== 'silent'))) {
    problems.push(v.op === 'cut' ? 'mode: expected reset or silent' : 'mode: only cut takes a mode');
  }
  if (v.peer !== undefined) {
    if (v.op !== 'cut' && v.op !== 'heal') problems.push(`peer: not used by ${String(v.op)}`);
    else if (typeof v.peer !== 'string' || v.peer === '') problems.push('peer: expected a node name');
  }
  if (problems.length > 0) throw new LabError('E_INVALID', 'control request', problems);
  if (v.op === 'status') return { op: 'status' };
  const pair = v.peer === undefined ? {} : { peer: v.peer as string };
  if (v.op === 'heal') return { op: 'heal', node: v.node as string, ...pair };
  return { op: 'cut', node: v.node as string, ...(v.mode === undefined ? {} : { mode: v.mode as CutMode }), ...pair };
}

function answer(relay: Relay, line: string): ControlResponse {
  try {
    const request = parseControlRequest(line);
    if (request.op === 'status') return { ok: true, nodes: relay.status() };
    if (request.op === 'heal') return { ok: true, nodes: [relay.heal(request.node, request.peer)] };
    return { ok: true, nodes: [relay.cut(request.node, request.mode, request.peer)] };
  } catch (err) {
    if (err instanceof LabError) return { ok: false, code: err.code, message: err.summary, problems: err.problems };
    throw err;
  }
}

/** Is something answering on this socket path? */
function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Serve `relay` on a Unix socket (mode 0600). A stale socket file is replaced; a live one is E_EXISTS. */
export async function serveControl(relay: Relay, path: string): Promise<{ close(): Promise<void> }> {
  if (await probe(path)) throw new LabError('E_EXISTS', `something already answers on ${path}`);
  // A socket nobody answers on is left from a relay that died: replace it. Anything else there is not ours to delete.
  const existing = await lstat(path).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined && !existing.isSocket()) throw new LabError('E_EXISTS', `${path} exists and is not a socket`);
  if (existing !== undefined) await unlink(path);
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') socket.write(`${JSON.stringify(answer(relay, line))}\n`);
      }
      if (Buffer.byteLength(pending) > MAX_LINE_BYTES) {
        const refusal: ControlResponse = { ok: false, code: 'E_INVALID', message: 'control request', problems: [`line longer than ${MAX_LINE_BYTES} bytes`] };
        socket.end(`${JSON.stringify(refusal)}\n`);
        pending = '';
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  return {
    async close() {
      for (const socket of clients) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => {});
    },
  };
}

/**
 * Send one request to a running relay and return the node statuses it answers
 * with. The relay's refusals come back as LabError with its code; an absent,
 * silent or garbled relay is E_UNAVAILABLE.
 */
export function controlRelay(path: string, request: ControlRequest, timeoutMs = 5000): Promise<RelayNodeStatus[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let received = '';
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const unavailable = (message: string, cause?: unknown): void =>
      settle(() => reject(new LabError('E_UNAVAILABLE', message, [], { cause })));
    const timer = setTimeout(() => unavailable(`relay on ${path} did not answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('error', (err) => unavailable(`cannot reach the relay on ${path}: ${err.message}`, err));
    socket.on('close', () => unavailable(`relay on ${path} closed the connection without answering`));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline < 0) return;
      let response: ControlResponse;
      try {
        response = JSON.parse(received.slice(0, newline)) as ControlResponse;
      } catch {
        unavailable(`relay on ${path} answered with something that is not JSON`);
        return;
      }
      if (response.ok) settle(() => resolve(response.nodes));
      else settle(() => reject(new LabError(response.code, response.message, response.problems)));
    });
  });
}
