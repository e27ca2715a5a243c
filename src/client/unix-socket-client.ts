// The agent's API on its Unix socket: how the CLI talks to the agent on the
// same machine (and to lab nodes). Root-only permissions on the socket are
// the access control, so there is no login.
import { createConnection } from 'node:net';
import { ApiCallError } from './agent-client.js';
import { StreamApiClient } from './stream-client.js';

export interface UnixSocketClientOptions {
  /** Longest wait for one answer, ms. */
  callTimeoutMs: number;
  /** Longest wait for the connection itself, ms (a socket whose listener hangs). */
  connectTimeoutMs?: number;
  /** Said when nothing answers: what to do about it. */
  unavailableHint?: string;
}

const DEFAULT_UNAVAILABLE_HINT = 'is the agent running? Start it with fcm agent run, or pick a cluster with --host or a lab with --lab';

export class UnixSocketClient extends StreamApiClient {
  /** Connects, or fails with E_UNAVAILABLE (nothing there, refused, not allowed) or E_TIMEOUT. */
  static connect(path: string, options: UnixSocketClientOptions): Promise<UnixSocketClient> {
    const hint = options.unavailableHint ?? DEFAULT_UNAVAILABLE_HINT;
    const connectTimeoutMs = options.connectTimeoutMs ?? options.callTimeoutMs;
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ApiCallError('E_TIMEOUT', `the agent socket ${path} did not accept the connection within ${connectTimeoutMs} ms`, hint));
      }, connectTimeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(path, err, hint));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new UnixSocketClient(socket, { callTimeoutMs: options.callTimeoutMs, peer: `the agent on ${path}` }));
      });
    });
  }
}

function connectError(path: string, err: NodeJS.ErrnoException, hint: string): ApiCallError {
  switch (err.code) {
    case 'ENOENT':
      return new ApiCallError('E_UNAVAILABLE', `no agent socket at ${path}`, hint);
    case 'ECONNREFUSED':
      return new ApiCallError('E_UNAVAILABLE', `no agent answers on ${path} (connection refused)`, hint);
    case 'EACCES':
    case 'EPERM':
      return new ApiCallError('E_UNAVAILABLE', `not allowed to use the agent socket ${path}`, 'the socket is for root only: run fcm as root (sudo)');
    default:
      return new ApiCallError('E_UNAVAILABLE', `cannot reach the agent on ${path}: ${err.message}`, hint);
  }
}
