// API calls between agents on the `api` peer channel: a node forwards a
// request it cannot answer itself (a change, or a read from the leader's
// view) to the leader and relays the answer. The callee runs it as if the
// original caller had asked it directly: the actor and role travel with the
// request, which is safe because only authenticated cluster nodes reach
// this channel. A forwarded request is never forwarded again.
import { randomUUID } from 'node:crypto';
import type { NodeId } from '../consensus/types.js';
import type { ApiErrorBody } from '../../client/api.js';
import type { AdminRole } from '../db/schema.js';
import { AgentError, errorBody } from './agent-error.js';
import type { Caller } from './api-server.js';
import type { Logger } from './logger.js';
import type { ChannelEndpoint } from './peer-channels.js';
import { isObject } from './state-files.js';

const ROLES: readonly string[] = ['admin', 'operator', 'viewer'];

type ApiEnvelope =
  | { t: 'req'; rid: string; method: string; params: unknown; actor: string; role: AdminRole }
  | { t: 'res'; rid: string; result?: unknown; error?: ApiErrorBody };

interface PendingCall {
  peer: NodeId;
  resolve: (result: unknown) => void;
  reject: (err: AgentError) => void;
  timer: NodeJS.Timeout;
}

/** Runs a request here, without forwarding it anywhere. */
export type LocalServe = (method: string, params: unknown, caller: Caller) => Promise<unknown>;

export class PeerApi {
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    private readonly endpoint: ChannelEndpoint,
    private readonly serve: LocalServe,
    private readonly log: Logger,
  ) {
    endpoint.onMessage((message, from) => this.receive(message, from));
  }

  /** Asks `peer` to run `method`; rejects with its error, E_UNAVAILABLE when it cannot be reached, or E_TIMEOUT. */
  call(peer: NodeId, method: string, params: unknown, caller: Caller, timeoutMs: number): Promise<unknown> {
    const rid = randomUUID();
    const request: ApiEnvelope = { t: 'req', rid, method, params, actor: caller.actor, role: caller.role };
    return new Promise((resolve, reject) => {
      let sent: boolean;
      try {
        sent = this.endpoint.send(peer, request, 'control');
      } catch (err) {
        reject(new AgentError('E_TOO_LARGE', `the request is too large to forward: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      if (!sent) {
        reject(new AgentError('E_UNAVAILABLE', `node ${peer} cannot be reached now`, 'retry in a moment; check `fcm node list`'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new AgentError('E_TIMEOUT', `node ${peer} did not answer ${method} within ${timeoutMs} ms`, 'the change may still take effect: check `fcm config history`'));
      }, timeoutMs);
      this.pending.set(rid, { peer, resolve, reject, timer });
    });
  }

  /** Fails every call still waiting. */
  close(): void {
    for (const [rid, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new AgentError('E_STOPPED', 'the agent is stopping'));
      this.pending.delete(rid);
    }
  }

  private receive(message: object, from: NodeId): void {
    const m = message as Record<string, unknown>;
    if (m.t === 'res' && typeof m.rid === 'string') {
      const call = this.pending.get(m.rid);
      if (!call || call.peer !== from) return;
      this.pending.delete(m.rid);
      clearTimeout(call.timer);
      if (isObject(m.error) && typeof m.error.code === 'string' && typeof m.error.message === 'string') {
        const e = m.error as unknown as ApiErrorBody;
        call.reject(new AgentError(e.code, e.message, e.hint, e.reports));
      } else {
        call.resolve(m.result ?? null);
      }
      return;
    }
    if (m.t === 'req' && typeof m.rid === 'string' && typeof m.method === 'string' && typeof m.actor === 'string'
      && typeof m.role === 'string' && ROLES.includes(m.role)) {
      const rid = m.rid;
      this.serve(m.method, m.params ?? {}, { actor: m.actor, role: m.role as AdminRole }).then(
        (result) => this.answer(from, { t: 'res', rid, result: result ?? null }),
        (err: unknown) => this.answer(from, { t: 'res', rid, error: errorBody(err) }),
      );
      return;
    }
    this.log.debug('malformed api message dropped', { from });
  }

  private answer(to: NodeId, response: ApiEnvelope): void {
    try {
      this.endpoint.send(to, response, 'control');
    } catch (err) {
      // Too large for a frame: say so instead of leaving the caller to time out.
      this.endpoint.send(to, { t: 'res', rid: response.rid, error: { code: 'E_TOO_LARGE', message: `the answer is too large to relay: ${err instanceof Error ? err.message : String(err)}` } }, 'control');
    }
  }
}
