// The lease guard (rule 5): a small process per node, apart from the agent
// and the resource monitor, running no plug-in code. It holds the node's
// lease deadline (lease end - (λ + K), sent by the agent) and, when that
// comes, kills every group's processes and undoes their kernel state, so a
// group never outlives the lease even if the agent and the monitor hang.
// It kills everything at once as well when the agent's connection closes
// (a group's processes die with the agent), at its own start (leftovers of
// an earlier life) and when it is stopped.
//
// Duties of the agent (see README.md): tell the guard a lease listing a
// group before starting it; convert times to monotonicMs(); and if the
// guard's connection closes, the guard is gone: stop every group at once.

import { chmod, mkdir, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { GroupContainment } from './cgroups.js';
import { monotonicMs } from './clock.js';
import { DeadlineTimer } from './deadline-timer.js';
import type { DeadlineTimerOptions } from './deadline-timer.js';
import { GuardError, errnoCode } from './guard-error.js';
import { guardSocketPath, parseGuardRequest, readLines } from './guard-protocol.js';
import type { ExpiryRecord, GroupStop, GuardReply, GuardRequest, GuardStatus } from './guard-protocol.js';
import { UndoJournal, journaledGroups } from './undo-journal.js';
import type { WatchdogFeeder } from './watchdog.js';

export interface GuardLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LeaseGuardOptions {
  stateDir: string;
  containment: GroupContainment;
  log: GuardLog;
  /** Bound on waiting for one group's processes to die, ms (default 5000). Beyond it the guard reports E_KILL_TIMEOUT. */
  killTimeoutMs?: number;
  /** Bound on one undo command, ms (default 5000). */
  undoTimeoutMs?: number;
  timer?: DeadlineTimerOptions;
}

export class LeaseGuard {
  private server: Server | null = null;
  private agent: Socket | null = null;
  private readonly timer: DeadlineTimer;
  private deadlineMs: number | null = null;
  private leaseEndMs: number | null = null;
  private groups: string[] = [];
  /** Undo runs of each group, chained: a journal has one undoer at a time. */
  private readonly undos = new Map<string, Promise<unknown>>();
  private inFlight = 0;
  private expiries = 0;
  private lastExpiry: ExpiryRecord | null = null;
  private stopped = false;
  private watchdog: WatchdogFeeder | null = null;
  readonly socketPath: string;

  constructor(private readonly options: LeaseGuardOptions) {
    this.socketPath = guardSocketPath(options.stateDir);
    this.timer = new DeadlineTimer((now) => void this.expire('deadline', now), options.timer);
  }

  /** Kills what an earlier life left behind, then listens. E_GUARD_RUNNING when another guard serves the socket. */
  async start(): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    if (await socketAnswers(this.socketPath)) throw new GuardError('E_GUARD_RUNNING', `a guard already listens on ${this.socketPath}`);
    await unlink(this.socketPath).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    await this.expire('startup', monotonicMs());
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    await chmod(this.socketPath, 0o600);
  }

  /** Feeds `feeder` from now on (rule 6); the guard's own state decides when. */
  attachWatchdog(feeder: WatchdogFeeder): void {
    this.watchdog = feeder;
    feeder.start();
  }

  /** Whether any group may have processes: the watchdog must not be fed near the lease end then. */
  async groupsRunning(): Promise<boolean> {
    if (this.groups.length > 0 || this.inFlight > 0) return true;
    return (await this.options.containment.groups().catch(() => ['unknown'])).length > 0;
  }

  /**
   * Whether a group may still have processes once the kills in flight are
   * over (a kill begun when the agent's connection closed may still run
   * when SIGTERM's stop finds the cgroup half gone); waits for them at most
   * the kill timeout. True when unsure: the watchdog then stays armed.
   */
  private async groupsRunningAfterKills(): Promise<boolean> {
    const deadline = monotonicMs() + (this.options.killTimeoutMs ?? 5000);
    while (this.inFlight > 0 && monotonicMs() < deadline) await sleep(5);
    return this.groupsRunning();
  }

  /** The lease end for the watchdog: the agent's, else the deadline (earlier, so safe); -Infinity without a lease. */
  leaseEnd(): number {
    return this.leaseEndMs ?? this.deadlineMs ?? -Infinity;
  }

  /** Stops listening, kills every group, removes the cgroup root and the socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.agent?.destroy();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    const record = await this.expire('guard-stop', monotonicMs());
    this.watchdog?.stop(record.stops.every((s) => s.empty) || !(await this.groupsRunningAfterKills()));
    await this.options.containment.close();
    await unlink(this.socketPath).catch(() => undefined);
  }

  status(): GuardStatus {
    const c = this.options.containment;
    return {
      pid: process.pid,
      nowMs: monotonicMs(),
      deadlineMs: this.deadlineMs,
      leaseEndMs: this.leaseEndMs,
      groups: [...this.groups],
      containment: { kind: c.kind, root: c.root },
      expiries: this.expiries,
      lastExpiry: this.lastExpiry,
      watchdog: this.watchdog === null ? null : { path: this.watchdog.path, timeoutMs: this.watchdog.timeoutMs, fed: this.watchdog.fed },
    };
  }

  private accept(socket: Socket): void {
    if (this.agent !== null || this.stopped) {
      // One agent only: a second connection could otherwise close and kill the first one's groups.
      socket.end(`${JSON.stringify({ ok: false, code: 'E_BUSY', message: 'the guard serves one agent connection at a time', problems: [] })}\n`);
      return;
    }
    this.agent = socket;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.agent !== socket) return;
      this.agent = null;
      if (!this.stopped) void this.expire('agent-gone', monotonicMs());
    });
    readLines(
      socket,
      (line) => void this.handle(socket, line),
      () => {
        this.reply(socket, { ok: false, code: 'E_TOO_LARGE', message: 'request line too long; closing the connection', problems: [] });
        socket.end();
      },
    );
  }

  private async handle(socket: Socket, line: string): Promise<void> {
    const parsed = parseGuardRequest(line);
    if (!parsed.ok) {
      this.options.log.warn('guard request refused', { problems: parsed.problems });
      this.reply(socket, { ok: false, ...(parsed.id === undefined ? {} : { id: parsed.id }), code: 'E_INVALID', message: 'invalid request', problems: parsed.problems });
      return;
    }
    const request = parsed.request;
    const id = request.id === undefined ? {} : { id: request.id };
    if (request.op === 'status') this.reply(socket, { ok: true, op: 'status', ...id, status: this.status() });
    else if (request.op === 'lease') {
      this.reply(socket, { ok: true, op: 'lease', ...id });
      this.applyLease(request);
    } else {
      this.groups = this.groups.filter((g) => g !== request.group);
      const stop = await this.stopGroup(request.group);
      if (stop.errors.length === 0) this.reply(socket, { ok: true, op: 'stop-group', ...id, ...stop });
      else this.reply(socket, { ok: false, ...id, code: stop.empty ? 'E_UNDO_FAILED' : 'E_KILL_TIMEOUT', message: stop.errors.join('; '), problems: [], stop });
    }
  }

  /** A newer lease replaces the older; a group left out of it stops at once (rule 1). */
  private applyLease(lease: Extract<GuardRequest, { op: 'lease' }>): void {
    const dropped = this.groups.filter((g) => !lease.groups.includes(g));
    this.groups = [...lease.groups];
    this.deadlineMs = lease.deadlineMs;
    this.leaseEndMs = lease.leaseEndMs ?? null;
    this.timer.set(lease.deadlineMs);
    for (const group of dropped) {
      void this.stopGroup(group).then((stop) => this.options.log.info('group left out of the lease: killed', { ...stop }));
    }
  }

  /** Kills every group at once: the listed ones first, then any other group or journal found. */
  private async expire(reason: ExpiryRecord['reason'], firedAtMs: number): Promise<ExpiryRecord> {
    const deadlineMs = reason === 'deadline' ? this.deadlineMs : null;
    const listed = this.groups;
    this.groups = [];
    this.deadlineMs = null;
    this.leaseEndMs = null;
    this.timer.set(null);
    const stops = listed.map((g) => this.stopGroup(g));
    const found = await Promise.all([this.options.containment.groups(), journaledGroups(this.options.stateDir)]).catch((err: unknown) => {
      this.options.log.error('cannot list groups to kill', { err });
      return [];
    });
    for (const group of new Set(found.flat())) if (!listed.includes(group)) stops.push(this.stopGroup(group));
    const done = await Promise.all(stops);
    const record: ExpiryRecord = {
      reason,
      deadlineMs,
      firedAtMs,
      latenessMs: deadlineMs === null ? null : firedAtMs - deadlineMs,
      killMs: monotonicMs() - firedAtMs,
      stops: done,
    };
    if (done.length === 0 && reason !== 'deadline') return record;
    this.expiries++;
    this.lastExpiry = record;
    const failed = done.filter((s) => s.errors.length > 0);
    const fields = { reason, latenessMs: record.latenessMs, killMs: record.killMs, groups: done.map((s) => s.group) };
    if (failed.length > 0) this.options.log.error('lease guard: groups NOT fully stopped', { ...fields, failed });
    else this.options.log.warn('lease guard killed every group', fields);
    return record;
  }

  /** Kills one group (never waiting behind another stop of it) and runs its undo journal. Never throws. */
  private async stopGroup(group: string): Promise<GroupStop> {
    this.inFlight++;
    const stop: GroupStop = { group, pids: 0, killMs: 0, empty: false, undone: 0, errors: [] };
    try {
      try {
        Object.assign(stop, await this.options.containment.kill(group, this.options.killTimeoutMs ?? 5000));
        if (!stop.empty) stop.errors.push(`processes of ${group} remain after the kill timeout`);
      } catch (err) {
        stop.errors.push(`kill ${group}: ${(err as Error).message}`);
      }
      // Kernel state goes even if a process hangs on: an address must not stay up with the lease gone.
      const previous = this.undos.get(group) ?? Promise.resolve();
      const undo = previous.then(() => new UndoJournal(this.options.stateDir, group).undo(this.options.undoTimeoutMs));
      const settled = undo.catch(() => undefined);
      this.undos.set(group, settled);
      void settled.then(() => {
        if (this.undos.get(group) === settled) this.undos.delete(group);
      });
      try {
        const report = await undo;
        stop.undone = report.undone;
        stop.errors.push(...report.failures.map((f) => `undo ${JSON.stringify(f.entry)}: ${f.message}`));
        if (report.problems.length > 0) this.options.log.warn('undo journal had bad lines (dropped)', { group, problems: report.problems });
      } catch (err) {
        stop.errors.push(`undo ${group}: ${(err as Error).message}`);
      }
      return stop;
    } finally {
      this.inFlight--;
    }
  }

  private reply(socket: Socket, reply: GuardReply): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
  }
}

/** Whether something accepts connections on the Unix socket `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
