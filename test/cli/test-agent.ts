// A tiny server that speaks the API's JSON lines on a real Unix socket or
// SSH channel: enough to test the CLIENT's framing, pipelining, timeouts and
// error mapping. End-to-end tests use real agents (test/e2e/).
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApiErrorBody } from '../../src/client/api.js';
import { JsonLinesDecoder, encodeJsonLine } from '../../src/client/json-lines.js';

/** Resolves with the result, or rejects with an ApiErrorBody to answer an error. */
export type Handler = (params: Record<string, unknown>) => Promise<unknown>;

export interface TestAgent {
  path: string;
  /** Every request received, in order. */
  requests: { id: unknown; method: string; params: unknown }[];
  close(): Promise<void>;
}

/** Answers each request with its method's handler; an unknown method is E_UNKNOWN_METHOD. */
export function serveStream(stream: Duplex, handlers: Readonly<Record<string, Handler>>, requests: TestAgent['requests']): void {
  const decoder = new JsonLinesDecoder(
    (value) => {
      const request = value as { id: unknown; method: string; params?: Record<string, unknown> };
      requests.push({ id: request.id, method: request.method, params: request.params });
      const handler = handlers[request.method];
      const answer = handler === undefined
        ? Promise.reject<unknown>({ code: 'E_UNKNOWN_METHOD', message: `no method ${request.method}` })
        : handler(request.params ?? {});
      answer.then(
        (result) => stream.write(encodeJsonLine({ id: request.id, result })),
        (error: ApiErrorBody) => stream.write(encodeJsonLine({ id: request.id, error })),
      );
    },
    () => stream.write(encodeJsonLine({ id: null, error: { code: 'E_MALFORMED_REQUEST', message: 'not JSON' } })),
  );
  stream.on('data', (chunk: Buffer) => decoder.push(chunk));
  stream.on('error', () => stream.destroy());
}

export async function startTestAgent(path: string, handlers: Readonly<Record<string, Handler>>): Promise<TestAgent> {
  const requests: TestAgent['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveStream(socket, handlers, requests);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    path,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
