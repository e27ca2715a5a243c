// The agent's side of one resource monitor process: forks it (IPC channel,
// JSON messages), sends operations, passes health transitions on, and
// watches it. A monitor that sends nothing (not even its heartbeat) for
// stuckAfterMs, or does not answer an operation within its deadline +
// answerGraceMs, is stuck: it is killed by PID (SIGKILL; its pid is ours
// until we reap it), a new one is started, every pending operation fails
// with E_MONITOR_STUCK and every resource it had is reported failed. So a
// hung plug-in or a frozen monitor never hangs the agent.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { failure } from '../types/resource-type.js';
import type { OperationName, OperationResult } from '../types/resource-type.js';
import { deadlineFor } from './protocol.js';
import type { HealthEvent, MonitorMessage, MonitorRequest, ResourceSpec } from './protocol.js';

export interface MonitorLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface MonitorClientOptions {
  /** Names the monitor in logs: `shared`, or the isolated resource's name. */
  name: string;
  /** The monitor's heartbeat interval, ms. Default 1000. */
  heartbeatMs?: number;
  /** Silence after which the monitor counts as stuck, ms; several heartbeats long. Default 5000. */
  stuckAfterMs?: number;
  /** Time an answer may come after its operation's deadline, ms. Default 2000. */
  answerGraceMs?: number;
  /** A monitor that dies within this of its start is restarted only after this long, ms: no crash loop. Default 1000. */
  restartBackoffMs?: number;
  log: MonitorLogger;
  /** Health transitions of this monitor's resources; on replacement, a failure for each of them. */
  onHealth: (event: HealthEvent) => void;
}

interface Pending {
  operation: OperationName;
  spec: ResourceSpec;
  /** performance.now() by which the answer must have come. */
  answerBy: number;
  resolve: (result: OperationResult) => void;
}

const MONITOR_ENTRY = new URL('./monitor-main.js', import.meta.url);
/**
 * V8's young generation capped at 1 MiB per semi-space (default 16): the
 * monitor's garbage is small and short-lived, and a burst of starts (1,000
 * resources online at once) otherwise leaves ~16 MiB more of it resident
 * for good (measured: 64 instead of 80 MiB RSS with 333 resources running).
 */
const MONITOR_NODE_FLAGS = ['--max-semi-space-size=1'];

export class MonitorClient {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private lastHeard = 0;
  private readonly pending = new Map<number, Pending>();
  /** Resources the current monitor may be running: online asked, no offline or terminate succeeded since. */
  private readonly resources = new Map<string, ResourceSpec>();
  private watchdog: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;
  private readonly heartbeatMs: number;
  private readonly stuckAfterMs: number;
  private readonly answerGraceMs: number;
  private readonly restartBackoffMs: number;
  /** How many times a monitor was replaced (stuck or died). */
  replacements = 0;

  constructor(private readonly options: MonitorClientOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.stuckAfterMs = options.stuckAfterMs ?? 5000;
    this.answerGraceMs = options.answerGraceMs ?? 2000;
    this.restartBackoffMs = options.restartBackoffMs ?? 1000;
  }

  /** The current monitor's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the monitor; resolves once it has sent its first heartbeat. */
  async start(): Promise<void> {
    const ready = this.spawnMonitor();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no heartbeat within ${this.stuckAfterMs} ms of its start`)), this.stuckAfterMs);
    });
    try {
      await Promise.race([ready, late]);
    } catch (err) {
      await this.close(0);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.watchdog = setInterval(() => this.checkAlive(), Math.max(10, Math.floor(this.heartbeatMs / 2)));
  }

  /** Runs an operation; never rejects: a lost monitor is a failed result. */
  operate(operation: OperationName, spec: ResourceSpec, deadlineMs = deadlineFor(operation, spec)): Promise<OperationResult> {
    const child = this.child;
    if (this.closed) return Promise.resolve(failure('E_MONITOR_CLOSED', 'the resource monitor was closed'));
    if (child === null || !child.connected) return Promise.resolve(failure('E_MONITOR_UNAVAILABLE', `resource monitor ${this.options.name} is restarting`));
    if (operation === 'online') this.resources.set(spec.name, spec);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { operation, spec, answerBy: performance.now() + deadlineMs + this.answerGraceMs, resolve });
      child.send({ kind: 'operate', id, operation, resource: spec, deadlineMs } satisfies MonitorRequest);
    });
  }

  /**
   * Lets go of the monitor: it terminates its resources and exits. Waits up
   * to `timeoutMs` (default: the longest stop deadline + grace), then kills it.
   */
  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    this.failPending('E_MONITOR_CLOSED', 'the resource monitor was closed');
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const longestStop = Math.max(0, ...[...this.resources.values()].map((s) => s.deadlines.stop));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs ?? longestStop + this.answerGraceMs);
    await exited;
    clearTimeout(timer);
  }

  private spawnMonitor(): Promise<void> {
    const child = fork(MONITOR_ENTRY, ['--heartbeat-ms', String(this.heartbeatMs)], {
      // The agent's own flags (a test runner's, an inspector) are not the monitor's.
      execArgv: MONITOR_NODE_FLAGS,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.startedAt = performance.now();
    this.lastHeard = this.startedAt;
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`resource monitor exited at start (${code ?? signal ?? '?'})`)));
    });
    // Start failures are reported by start(); later ones through the exit handler.
    ready.catch(() => undefined);
    child.on('message', (message: MonitorMessage) => {
      if (this.child === child) this.receive(message);
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.closed) return;
      this.child = null;
      this.lost('E_MONITOR_EXITED', `resource monitor ${this.options.name} (pid ${child.pid ?? '?'}) exited (${code ?? signal ?? '?'})`);
      const livedMs = performance.now() - this.startedAt;
      const restart = (): void => {
        this.restartTimer = null;
        if (!this.closed) void this.spawnMonitor();
      };
      if (livedMs < this.restartBackoffMs) this.restartTimer = setTimeout(restart, this.restartBackoffMs);
      else restart();
    });
    return ready;
  }

  private receive(message: MonitorMessage): void {
    this.lastHeard = performance.now();
    switch (message.kind) {
      case 'heartbeat': return;
      case 'log': {
        this.options.log[message.level](message.msg, { ...message.fields, monitor: this.options.name });
        return;
      }
      case 'health': {
        const { kind: _kind, ...event } = message;
        this.options.onHealth(event);
        return;
      }
      case 'result': {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return;
        this.pending.delete(message.id);
        if ((pending.operation === 'offline' || pending.operation === 'terminate') && message.result.ok) this.resources.delete(pending.spec.name);
        pending.resolve(message.result);
      }
    }
  }

  private checkAlive(): void {
    if (this.child === null || this.closed) return;
    if (!this.overdue()) return;
    // After a pause of the agent's own loop, timers run before the I/O that
    // has queued up: judge again once that I/O (the heartbeats) has been read.
    setImmediate(() => {
      const why = this.child === null || this.closed ? null : this.overdue();
      if (why) this.replace(why);
    });
  }

  /** Why the monitor counts as stuck now, or null. */
  private overdue(): string | null {
    const now = performance.now();
    const silentMs = now - this.lastHeard;
    if (silentMs > this.stuckAfterMs) return `no message for ${Math.round(silentMs)} ms`;
    for (const p of this.pending.values()) {
      if (now > p.answerBy) return `no answer to ${p.operation} of ${p.spec.name} by its deadline`;
    }
    return null;
  }

  /** Kills the stuck monitor by its pid and starts another. */
  private replace(why: string): void {
    const stuck = this.child;
    if (stuck === null) return;
    this.child = null;
    stuck.removeAllListeners('exit');
    stuck.removeAllListeners('message');
    // Not yet reaped (its 'exit' has not been handled), so the pid is still this monitor's.
    stuck.kill('SIGKILL');
    this.options.log.warn('resource monitor is stuck: killed and replaced', { monitor: this.options.name, pid: stuck.pid, why });
    this.lost('E_MONITOR_STUCK', `resource monitor ${this.options.name} (pid ${stuck.pid ?? '?'}) was stuck (${why}) and was replaced`);
    void this.spawnMonitor();
  }

  /** The monitor is gone: its pending operations fail and each of its resources is reported failed. */
  private lost(code: string, message: string): void {
    this.replacements++;
    this.failPending(code, message);
    const resources = [...this.resources.keys()];
    this.resources.clear();
    for (const resource of resources) {
      this.options.onHealth({ resource, healthy: false, source: 'monitor', result: failure(code, message) });
    }
  }

  private failPending(code: string, message: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.resolve(failure(code, message));
  }
}
