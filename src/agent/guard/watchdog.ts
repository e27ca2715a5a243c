// Rule 6 (fencing = watchdog): the guard feeds /dev/watchdog only while no
// group runs or the lease has at least the watchdog's timeout T_wd left. If
// the guard, the agent or the whole machine stops making progress, feeding
// stops and the hardware resets the machine before a group can outlive its
// lease. Opening the device arms it, so the feeder runs only when asked for
// (guard-main --watchdog), never by default and never in tests.

import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { GuardError } from './guard-error.js';

/**
 * Whether the watchdog may be fed at monotonic time `now` (ms): always when
 * no group runs; otherwise only while the lease (ending at `leaseEnd`, ms)
 * outlasts a full watchdog period, so an unfed watchdog fires no later than
 * the lease end.
 */
export function mayFeedWatchdog(now: number, leaseEnd: number, groupsRunning: boolean, watchdogTimeoutMs: number): boolean {
  return !groupsRunning || leaseEnd - now >= watchdogTimeoutMs;
}

/** T_wd of a watchdog device from sysfs (/sys/class/watchdog/<name>/timeout, whole seconds), in ms. */
export async function readWatchdogTimeoutMs(devicePath: string): Promise<number> {
  const file = `/sys/class/watchdog/${basename(devicePath)}/timeout`;
  const seconds = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isFinite(seconds) || seconds <= 0) throw new GuardError('E_WATCHDOG', `cannot read the watchdog timeout from ${file}`);
  return seconds * 1000;
}

export interface WatchdogState {
  /** When the lease ends (monotonic ms); -Infinity when there is none. */
  leaseEnd: number;
  groupsRunning: boolean;
}

export class WatchdogFeeder {
  private fd: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Feeds written so far. */
  fed = 0;

  constructor(
    readonly path: string,
    readonly timeoutMs: number,
    /** The guard's view now; read at every feed (rule 8). */
    private readonly state: () => Promise<WatchdogState>,
    private readonly now: () => number,
    /** Feed period, ms: short, so that feeding resumes soon after the guard's kill. */
    private readonly intervalMs = 10,
  ) {}

  /** Opens (and so arms) the device and starts feeding. */
  start(): void {
    try {
      // Write-only and never O_CREAT: a missing device must fail, not become a regular file.
      this.fd = openSync(this.path, constants.O_WRONLY);
    } catch (err) {
      throw new GuardError('E_WATCHDOG', `cannot open watchdog ${this.path}: ${(err as Error).message}`);
    }
    const tick = (): void => {
      void this.feedIfAllowed().finally(() => {
        if (this.fd !== null) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  /** Stops feeding; `disarm` (only when no group runs) writes the magic 'V' so the close does not reset the machine. */
  stop(disarm: boolean): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd === null) return;
    if (disarm) writeSync(this.fd, 'V');
    closeSync(this.fd);
    this.fd = null;
  }

  private async feedIfAllowed(): Promise<void> {
    const { leaseEnd, groupsRunning } = await this.state();
    if (this.fd === null || !mayFeedWatchdog(this.now(), leaseEnd, groupsRunning, this.timeoutMs)) return;
    writeSync(this.fd, '\0');
    this.fed++;
  }
}
