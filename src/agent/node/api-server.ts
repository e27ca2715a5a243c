// The agent's local API: JSON lines (src/client/api.ts) on a Unix socket,
// mode 0600 in a 0700 directory, so only the agent's user (root in
// production) can connect. The same connection handler serves SSH channels
// (`ssh node fcm-api`). Bad input is answered with a stable error code and
// never crashes the agent: an unknown method or bad params fail that
// request only; a line that is not JSON, or a truncated last line, is
// answered and closes that connection only.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeJsonLine, JsonLinesDecoder } from '../../client/json-lines.js';
import type { ApiErrorBody } from '../../client/api.js';
import type { AdminRole } from '../db/schema.js';
import { errorBody } from './agent-error.js';
import type { Logger } from './logger.js';
import { isObject } from './state-files.js';

/** Who is asking: recorded as the actor of every change they make. */
export interface Caller {
  /** `local:<uid>`, an admin key fingerprint (`SHA256:...`), or a node id. */
  actor: string;
  role: AdminRole;
}

/** Runs one API method; rejects with an AgentError (or any error with a stable code). */
export type Dispatch = (method: string, params: unknown, caller: Caller) => Promise<unknown>;

type ResponseId = number | null;

/**
 * Serves API requests on a byte stream until it ends. Responses carry the
 * request id; requests may be pipelined. `finish` ends the stream once the
 * last response is written (default: end, then destroy, so a client that
 * sent garbage is cut off even if it keeps its side open).
 */
export function serveJsonLines(stream: Duplex, caller: Caller, dispatch: Dispatch, log: Logger, finish = (): void => {
  stream.end(() => stream.destroy());
}): void {
  let inFlight = 0;
  let closing = false;
  /** The bytes after the last newline hold something: a request was cut off. */
  let partialLine = false;

  const write = (value: unknown): void => {
    if (!stream.writableEnded && !stream.destroyed) stream.write(encodeJsonLine(value));
  };
  let finished = false;
  const finishIfIdle = (): void => {
    if (!closing || inFlight > 0 || finished) return;
    finished = true;
    finish();
  };
  const closeWith = (error: ApiErrorBody): void => {
    if (closing) return;
    closing = true;
    write({ id: null, error });
    finishIfIdle();
  };

  const decoder = new JsonLinesDecoder(
    (value) => {
      if (closing) return;
      const request = parseRequest(value);
      if ('error' in request) {
        write(request);
        return;
      }
      inFlight++;
      dispatch(request.method, request.params, caller).then(
        (result) => write({ id: request.id, result: result ?? null }),
        (err: unknown) => {
          const body = errorBody(err);
          if (body.code === 'E_INTERNAL') log.error('API method failed', { method: request.method, err });
          write({ id: request.id, error: body });
        },
      ).finally(() => {
        inFlight--;
        finishIfIdle();
      });
    },
    (err) => closeWith({ code: 'E_MALFORMED_REQUEST', message: err.code === 'E_LINE_TOO_LONG' ? err.message : 'a request line is not valid JSON', hint: 'send one JSON object per line: {"id":1,"method":"agent.status","params":{}}' }),
  );

  stream.on('data', (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const newline = bytes.lastIndexOf(0x0a);
    const tail = newline === -1 ? bytes : bytes.subarray(newline + 1);
    const tailHasText = /\S/.test(tail.toString('latin1'));
    partialLine = newline === -1 ? partialLine || tailHasText : tailHasText;
    decoder.push(bytes);
  });
  stream.on('end', () => {
    if (partialLine) closeWith({ code: 'E_MALFORMED_REQUEST', message: 'the last request was cut off: a line must end with a newline' });
    closing = true;
    finishIfIdle();
  });
  stream.on('error', () => stream.destroy());
}

function parseRequest(value: unknown): { id: number; method: string; params: unknown } | { id: ResponseId; error: ApiErrorBody } {
  const hint = 'a request is {"id": <integer>, "method": "<name>", "params": {...}}';
  if (!isObject(value)) return { id: null, error: { code: 'E_MALFORMED_REQUEST', message: 'a request must be a JSON object', hint } };
  const id = value.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return { id: null, error: { code: 'E_MALFORMED_REQUEST', message: 'the request has no integer id', hint } };
  }
  if (typeof value.method !== 'string') return { id, error: { code: 'E_MALFORMED_REQUEST', message: 'the request has no method name', hint } };
  const extra = Object.keys(value).filter((k) => k !== 'id' && k !== 'method' && k !== 'params');
  if (extra.length > 0) return { id, error: { code: 'E_MALFORMED_REQUEST', message: `unknown request fields: ${extra.join(', ')}`, hint } };
  return { id, method: value.method, params: value.params ?? {} };
}

/** The Unix socket listener. */
export class ApiSocketServer {
  private readonly connections = new Set<Socket>();

  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, caller: Caller, dispatch: Dispatch, log: Logger): Promise<ApiSocketServer> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // This process holds the state directory's lock, so a socket file left here is a dead agent's.
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const server = createServer({ allowHalfOpen: true });
    const api = new ApiSocketServer(server, path);
    server.on('connection', (socket) => {
      api.connections.add(socket);
      socket.once('close', () => api.connections.delete(socket));
      serveJsonLines(socket, caller, dispatch, log);
    });
    // The socket is made 0600 from the start (umask), not chmodded after a window in which others could connect.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    await chmod(path, 0o600);
    return api;
  }

  /** Stops listening, drops connections, removes the socket file. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.connections) socket.destroy();
    await closed;
    await unlink(this.path).catch(() => undefined);
  }
}
