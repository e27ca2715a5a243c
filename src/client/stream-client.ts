// An AgentClient over any byte stream that speaks the API's JSON lines (see
// api.ts): the agent's Unix socket or an SSH channel. Calls are pipelined:
// each gets the next id and its answer is matched by id, so a slow call does
// not hold up the others. Every call is bounded by a timeout.
import type { Duplex } from 'node:stream';
import type { AgentClient } from './agent-client.js';
import { ApiCallError } from './agent-client.js';
import type { ApiErrorBody, ApiMethod, ApiParams, ApiResult } from './api.js';
import { JsonLinesDecoder, encodeJsonLine } from './json-lines.js';

export interface StreamClientOptions {
  /** Longest wait for one answer, ms; then the call fails with E_TIMEOUT (the connection stays usable). */
  callTimeoutMs: number;
  /** Who answers, for messages: `the agent on /run/fcm/agent.sock`. */
  peer: string;
  /** Runs once when the client is closed or the stream ends (ends an SSH connection under a channel). */
  onClose?: () => void;
}

interface PendingCall {
  method: ApiMethod;
  resolve(result: unknown): void;
  reject(err: ApiCallError): void;
  timer: NodeJS.Timeout;
}

export class StreamApiClient implements AgentClient {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  /** Set once the stream is unusable; later calls fail with it at once. */
  private broken: ApiCallError | undefined;
  /** onClose has run. */
  private released = false;

  constructor(
    private readonly stream: Duplex,
    private readonly options: StreamClientOptions,
  ) {
    const decoder = new JsonLinesDecoder(
      (value) => this.receive(value),
      (err) => this.fail(new ApiCallError('E_PROTOCOL', `${options.peer} sent a bad line: ${err.message}`)),
    );
    stream.on('data', (chunk: Buffer | string) => decoder.push(chunk));
    stream.on('error', (err: Error) => this.fail(new ApiCallError('E_UNAVAILABLE', `connection to ${options.peer} failed: ${err.message}`)));
    stream.on('close', () => this.fail(new ApiCallError('E_UNAVAILABLE', `${options.peer} closed the connection`, 'check that the agent is still running (fcm agent status)')));
    stream.on('end', () => this.fail(new ApiCallError('E_UNAVAILABLE', `${options.peer} closed the connection`, 'check that the agent is still running (fcm agent status)')));
  }

  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<ApiResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiCallError('E_TIMEOUT', `${this.options.peer} did not answer ${method} within ${this.options.callTimeoutMs} ms`, 'give it longer with --timeout, or check the agent (fcm agent status)'));
      }, this.options.callTimeoutMs);
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject, timer });
      this.stream.write(encodeJsonLine({ id, method, params }));
    });
  }

  async close(): Promise<void> {
    this.fail(new ApiCallError('E_CLOSED', `the connection to ${this.options.peer} was closed`));
    if (!this.stream.destroyed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.end();
        // A peer that never closes its side must not keep the CLI waiting, ms.
        setTimeout(() => {
          this.stream.destroy();
          resolve();
        }, 200).unref();
      });
    }
    this.release();
  }

  private receive(value: unknown): void {
    const response = parseResponse(value);
    if (response === undefined) {
      this.fail(new ApiCallError('E_PROTOCOL', `${this.options.peer} sent something that is not an API response`));
      this.stream.destroy();
      return;
    }
    if (response.kind === 'stream-error') {
      // The agent refused the stream itself (a line it could not read): every call on it fails.
      const { code, message, hint } = response.error;
      this.fail(new ApiCallError(code, message, hint));
      return;
    }
    const call = this.pending.get(response.id);
    // An answer after its call timed out: nobody waits for it any more.
    if (call === undefined) return;
    this.pending.delete(response.id);
    clearTimeout(call.timer);
    if (response.kind === 'error') {
      const { code, message, hint, reports } = response.error;
      call.reject(new ApiCallError(code, message, hint, reports));
    } else {
      call.resolve(response.result);
    }
  }

  /** Fails every waiting call and all later ones with `err` (the first failure wins). */
  private fail(err: ApiCallError): void {
    this.broken ??= err;
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      this.pending.delete(id);
      call.reject(this.broken);
    }
    // Anything but our own close leaves the stream unusable: let it go.
    if (err.code !== 'E_CLOSED') {
      this.stream.destroy();
      this.release();
    }
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.options.onClose?.();
  }
}

type ParsedResponse =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: ApiErrorBody }
  /** `id: null`: an error about the stream (a line without a usable id), not about one call. */
  | { kind: 'stream-error'; error: ApiErrorBody };

function parseResponse(value: unknown): ParsedResponse | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const id = v.id;
  if (typeof id !== 'number' && id !== null) return undefined;
  if ('error' in v) {
    const e = v.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string') return undefined;
    const body: ApiErrorBody = { code: e.code, message: e.message };
    if (typeof e.hint === 'string') body.hint = e.hint;
    if (Array.isArray(e.reports)) body.reports = e.reports as ApiErrorBody['reports'];
    return id === null ? { kind: 'stream-error', error: body } : { kind: 'error', id, error: body };
  }
  if (!('result' in v) || id === null) return undefined;
  return { kind: 'result', id, result: v.result };
}
