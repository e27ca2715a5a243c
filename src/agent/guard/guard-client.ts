// The agent's side of the guard socket (guard-protocol.ts). The agent keeps
// one GuardClient for its whole life; if it closes without the agent asking,
// the guard is gone and the agent must stop every group at once (onClose).

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { GuardError } from './guard-error.js';
import { readLines } from './guard-protocol.js';
import type { GroupStop, GuardReply, GuardRequest, GuardStatus } from './guard-protocol.js';

type Pending = { resolve: (reply: GuardReply) => void; reject: (err: Error) => void };

export class GuardClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedByUs = false;
  private closeListeners: ((expected: boolean) => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('error', () => undefined);
    readLines(
      socket,
      (line) => this.receive(line),
      () => socket.destroy(),
    );
    socket.on('close', () => {
      const gone = new GuardError('E_GUARD_GONE', 'the lease guard connection closed');
      for (const p of this.pending.values()) p.reject(gone);
      this.pending.clear();
      for (const listener of this.closeListeners) listener(this.closedByUs);
    });
  }

  static connect(socketPath: string): Promise<GuardClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new GuardClient(socket));
      });
    });
  }

  /** `expected` is false when the guard went away: the agent must then stop every group itself. */
  onClose(listener: (expected: boolean) => void): void {
    this.closeListeners.push(listener);
  }

  /** deadlineMs = lease end - (λ + K) and leaseEndMs, both in monotonicMs() terms. */
  async lease(deadlineMs: number, groups: string[], leaseEndMs?: number): Promise<void> {
    await this.request({ op: 'lease', deadlineMs, groups, ...(leaseEndMs === undefined ? {} : { leaseEndMs }) });
  }

  /** Resolves once the group is killed and undone; rejects with E_KILL_TIMEOUT or E_UNDO_FAILED otherwise. */
  async stopGroup(group: string): Promise<GroupStop> {
    const reply = await this.request({ op: 'stop-group', group });
    if (reply.ok && reply.op === 'stop-group') {
      const { group: g, pids, killMs, empty, undone, errors } = reply;
      return { group: g, pids, killMs, empty, undone, errors };
    }
    throw new GuardError('E_INVALID', 'unexpected reply to stop-group');
  }

  async status(): Promise<GuardStatus> {
    const reply = await this.request({ op: 'status' });
    if (reply.ok && reply.op === 'status') return reply.status;
    throw new GuardError('E_INVALID', 'unexpected reply to status');
  }

  /** Closing on purpose: note that the guard then kills every group. */
  close(): void {
    this.closedByUs = true;
    this.socket.end();
  }

  private request(request: GuardRequest): Promise<GuardReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new GuardError('E_GUARD_GONE', 'the lease guard connection is closed'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  private receive(line: string): void {
    let reply: GuardReply;
    try {
      reply = JSON.parse(line) as GuardReply;
    } catch {
      return;
    }
    const id = typeof reply.id === 'number' ? reply.id : -1;
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new GuardError(reply.code, reply.message, reply.problems));
  }
}
