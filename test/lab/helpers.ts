// Stand-ins for agents in relay tests: TCP echo servers on 127.0.1.K, and
// clients that dial from a chosen source address.
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RelayRoute } from '../../src/lab/relay-config.js';

export interface EchoServer {
  host: string;
  port: number;
  /** Source address of every connection it accepted, in order. */
  peers: string[];
  close(): Promise<void>;
}

/** Echoes every byte back; answers a half-close with its own once the echo is written. */
export async function startEchoServer(host: string): Promise<EchoServer> {
  const peers: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    peers.push(socket.remoteAddress ?? '');
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as { port: number }).port,
    peers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Node K's route: private 127.0.1.K at the echo server, public 127.0.0.1 on a port the OS picks. */
export function routeFor(nodeId: string, echo: EchoServer): RelayRoute {
  return { nodeId, publicHost: '127.0.0.1', publicPort: 0, targetHost: echo.host, targetPort: echo.port, sourceHost: echo.host };
}

/** A client connection and everything it received, and how it ended. */
export interface Client {
  socket: Socket;
  received(): Buffer;
  /** Resolves when the socket closes, with the error code if it closed by error (ECONNRESET...). */
  closed: Promise<string | undefined>;
}

export async function dial(port: number, localAddress?: string): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let errorCode: string | undefined;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', (err: NodeJS.ErrnoException) => (errorCode = err.code ?? 'error'));
  const closed = new Promise<string | undefined>((resolve) => socket.on('close', () => resolve(errorCode)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** Poll `check` every 10 ms until it holds; fail after `ms`. */
export async function eventually(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Send `text` and wait for its echo. */
export async function echoes(client: Client, text: string): Promise<void> {
  const before = client.received().length;
  client.socket.write(text);
  await eventually(`echo of ${JSON.stringify(text)}`, () => client.received().subarray(before).toString() === text);
}

/**
 * Dial, send a byte, and expect the relay to reset the connection without
 * forwarding anything. The reset can come so fast that connect itself fails.
 */
export async function assertRefused(port: number, localAddress?: string): Promise<void> {
  let client: Client;
  try {
    client = await dial(port, localAddress);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return;
    throw err;
  }
  client.socket.write('x');
  const ending = await client.closed;
  if (client.received().length !== 0) throw new Error(`refused connection from ${localAddress ?? 'admin'} received ${client.received().length} bytes`);
  if (ending !== 'ECONNRESET' && ending !== 'EPIPE') throw new Error(`refused connection ended with ${ending ?? 'a clean close'}, not a reset`);
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-lab-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
