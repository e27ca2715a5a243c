// The agent's lease guard (safety rule 5; guard/README.md, "Duties of the
// agent"): starts guard-main as a child process (or takes over the guard an
// earlier life of this agent left listening: it killed the groups when that
// agent's connection closed), keeps one GuardClient for the agent's life,
// and when the guard goes away unasked, kills every group itself, undoes
// their journals, tells the runner, and starts a new guard. With fencing =
// watchdog (rule 6) the guard it starts feeds the watchdog device; a guard
// taken over that feeds another device, or none, is replaced.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { openContainment } from '../guard/cgroups.js';
import type { GroupContainment } from '../guard/cgroups.js';
import { GuardClient } from '../guard/guard-client.js';
import { guardSocketPath } from '../guard/guard-protocol.js';
import type { GuardStatus } from '../guard/guard-protocol.js';
import { journaledGroups, UndoJournal } from '../guard/undo-journal.js';
import { processIdentity, waitUntilGone } from '../../os/process-identity.js';
import type { Logger } from './logger.js';

const GUARD_ENTRY = new URL('../guard/guard-main.js', import.meta.url);
/** ms the guard may take to say it listens. */
const READY_TIMEOUT_MS = 10_000;
/** ms between attempts to start a guard that will not start. */
const RESTART_DELAY_MS = 1000;
/** ms the guard may take to kill every group at SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5000;
/** ms a group's processes may take to die when the agent kills them itself. */
const KILL_TIMEOUT_MS = 2000;

export interface GuardSupervisorOptions {
  /** The guard's own state directory (its socket and undo journals). */
  stateDir: string;
  /** Names the guard's default cgroup root (`<cgroup2>/fcm/<name>`): unique per node on a machine. */
  nodeName: string;
  log: Logger;
  /** The guard went away unasked; every group was killed by the agent. */
  onLost: () => void;
}

/** The watchdog the guard feeds (`guard-main --watchdog`). */
export interface GuardWatchdog {
  /** The device: /dev/watchdog, or the lab's emulated one (a FIFO). */
  path: string;
  /** T_wd, ms; absent: the device's own, read by the guard from sysfs. */
  timeoutMs?: number;
}

export class GuardSupervisor {
  /** Set before start(): the guard feeds this watchdog; null: fencing is not by watchdog. */
  watchdog: GuardWatchdog | null = null;
  /** T_wd (ms) the connected guard feeds with; null when it feeds none. */
  watchdogTimeoutMs: number | null = null;
  client: GuardClient | null = null;
  /** The guard's pid (our child, or a guard an earlier life of the agent started). */
  pid: number | null = null;
  containment: GroupContainment | null = null;
  private child: ChildProcess | null = null;
  private closed = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: GuardSupervisorOptions) {}

  get socketPath(): string {
    return guardSocketPath(this.options.stateDir);
  }

  /** Connects to a guard, starting one when none listens. */
  async start(): Promise<void> {
    let client = await GuardClient.connect(this.socketPath).catch(() => null);
    if (client !== null) {
      const earlier = await client.status();
      if (this.feedsOurWatchdog(earlier)) this.options.log.info('took over the lease guard of an earlier agent');
      else {
        this.options.log.warn('the lease guard of an earlier agent feeds another watchdog, or none: replacing it', { pid: earlier.pid, feeds: earlier.watchdog?.path ?? null, wanted: this.watchdog?.path ?? null });
        await this.replaceEarlierGuard(client, earlier.pid);
        client = null;
      }
    }
    if (client === null) {
      await this.spawnGuard();
      client = await GuardClient.connect(this.socketPath);
    }
    const status = await client.status();
    this.pid = status.pid;
    this.watchdogTimeoutMs = status.watchdog?.timeoutMs ?? null;
    this.containment ??= await openContainment({
      nodeName: this.options.nodeName,
      stateDir: this.options.stateDir,
      cgroupRoot: status.containment.kind === 'cgroup' ? status.containment.root : undefined,
      warn: (m, f) => this.options.log.warn(m, f),
    });
    client.onClose((expected) => {
      if (!expected && !this.closed) void this.lost(client);
    });
    this.client = client;
    this.options.log.info('lease guard connected', { pid: status.pid, containment: status.containment.kind, root: status.containment.root });
  }

  /** Closing our connection makes the guard kill every group; then SIGTERM removes its cgroup root and socket. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.client?.close();
    this.client = null;
    const child = this.child;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    } else if (child === null && this.pid !== null) {
      // Not our child: signal it only while its socket still answers (the pid is still that guard's).
      const stillThere = await GuardClient.connect(this.socketPath).then((c) => {
        c.close();
        return true;
      }, () => false);
      try {
        if (stillThere) process.kill(this.pid, 'SIGTERM');
      } catch (err) {
        this.options.log.warn('could not signal the lease guard', { pid: this.pid, err });
      }
    }
  }

  private feedsOurWatchdog(status: GuardStatus): boolean {
    const want = this.watchdog;
    const have = status.watchdog;
    if (want === null || have === null) return want === have;
    return have.path === want.path && (want.timeoutMs === undefined || have.timeoutMs === want.timeoutMs);
  }

  /**
   * Closing the connection kills the earlier guard's groups (none of this
   * agent's run yet); SIGTERM then makes it disarm its watchdog and exit.
   * Its pid is its own answer of a moment ago, checked by start time.
   */
  private async replaceEarlierGuard(client: GuardClient, pid: number): Promise<void> {
    client.close();
    const earlier = processIdentity(pid);
    if (earlier === undefined) return;
    process.kill(pid, 'SIGTERM');
    if (!(await waitUntilGone(earlier, STOP_TIMEOUT_MS))) throw new Error(`the earlier lease guard (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS} ms`);
  }

  private spawnGuard(): Promise<void> {
    const args = [GUARD_ENTRY.pathname, '--state-dir', this.options.stateDir, '--node', this.options.nodeName, '--log-format', 'json'];
    if (this.watchdog !== null) {
      args.push('--watchdog', this.watchdog.path);
      if (this.watchdog.timeoutMs !== undefined) args.push('--watchdog-timeout-ms', String(this.watchdog.timeoutMs));
    }
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (!this.closed) this.options.log.warn('lease guard exited', { pid: child.pid, code, signal });
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the lease guard did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the lease guard exited at start (${code ?? '?'})`));
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.includes('"event":"ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Duty 2: the guard is gone; stop every group at once ourselves, treat the lease as lost, start another guard. */
  private async lost(client: GuardClient): Promise<void> {
    if (this.client !== client) return;
    this.client = null;
    this.options.log.error('the lease guard went away: killing every group and starting a new guard', { pid: this.pid });
    const containment = this.containment;
    if (containment !== null) {
      for (const group of await containment.groups().catch(() => [])) {
        await containment.kill(group, KILL_TIMEOUT_MS).catch((err: unknown) => this.options.log.error('could not kill group', { group, err }));
      }
    }
    for (const group of await journaledGroups(this.options.stateDir).catch(() => [])) {
      await new UndoJournal(this.options.stateDir, group).undo().catch((err: unknown) => this.options.log.error('could not undo group', { group, err }));
    }
    this.options.onLost();
    this.scheduleRestart(0);
  }

  private scheduleRestart(delayMs: number): void {
    if (this.closed) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closed) return;
      this.start().catch((err: unknown) => {
        this.options.log.error('could not start the lease guard', { err });
        this.scheduleRestart(RESTART_DELAY_MS);
      });
    }, delayMs);
  }
}
