// Rule 6 (fencing = watchdog): the guard feeds /dev/watchdog only while no
// group runs or the lease has at least the watchdog's timeout T_wd left. If
// the guard, the agent or the whole machine stops making progress, feeding
// stops and the hardware resets the machine before a group can outlive its
// lease. Opening the device arms it, so the feeder runs only when asked for
// (guard-main --watchdog, given by `fcm agent run --watchdog`), never by
// default; tests feed a regular file or the lab's emulated watchdog (a FIFO).

import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LeaseTiming } from '../core/lease-config.js';
import { GuardError } from './guard-error.js';

/** How often the guard feeds (when allowed), ms: short, so that feeding resumes soon after the guard's kill. */
export const WATCHDOG_FEED_INTERVAL_MS = 10;

/**
 * Whether the watchdog may be fed at monotonic time `now` (ms): always when
 * no group runs; otherwise only while the lease (ending at `leaseEnd`, ms)
 * outlasts a full watchdog period, so an unfed watchdog fires no later than
 * the lease end.
 */
export function mayFeedWatchdog(now: number, leaseEnd: number, groupsRunning: boolean, watchdogTimeoutMs: number): boolean {
  return !groupsRunning || leaseEnd - now >= watchdogTimeoutMs;
}

/**
 * The longest T_wd (ms) a node under lease timing `t` may use. Safety holds
 * for any T_wd: the guard stops feeding at lease end E - T_wd, so an unfed
 * watchdog fires by E. Liveness: without renewals it fires at about E
 * whatever T_wd is, after the guard's kill at E - (λ + K), which lets
 * feeding resume (no group runs), so λ + K need not be subtracted. But while
 * groups run the guard feeds only in the window that each grant opens: a
 * holder asks every h, a grant arrives within one RTT (rttBudgetMs covers
 * three) and leaves E - now = L - RTT, and feeding stops T_wd before E. A
 * window shorter than a feed interval plus the agent-to-guard hop is missed
 * at the first event-loop delay, and the watchdog then resets a healthy
 * node. So T_wd <= L - 2h - RTT: just before a grant arrives E - now is at
 * least L - h - RTT, and L - 2h - RTT with one renewal lost, so feeding
 * never pauses across one lost renewal.
 */
export function maxWatchdogTimeoutMs(t: LeaseTiming): number {
  return t.nodeLeaseMs - 2 * t.heartbeatIntervalMs - t.rttBudgetMs / 3;
}

/** Every problem with watchdog timeout `timeoutMs` (ms) under lease timing `t`; empty when it may be used. */
export function watchdogTimeoutProblems(timeoutMs: number, t: LeaseTiming): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(timeoutMs) || timeoutMs <= WATCHDOG_FEED_INTERVAL_MS) {
    problems.push(`the watchdog timeout (${timeoutMs} ms) must exceed the guard's feed interval (${WATCHDOG_FEED_INTERVAL_MS} ms)`);
  }
  const max = maxWatchdogTimeoutMs(t);
  if (timeoutMs > max) {
    problems.push(`the watchdog timeout (${timeoutMs} ms) must be at most L - 2h - RTT = ${t.nodeLeaseMs} - 2 x ${t.heartbeatIntervalMs} - ${(t.rttBudgetMs / 3).toFixed(1)} = ${max.toFixed(1)} ms, or a healthy node is reset when one lease renewal is lost`);
  }
  return problems;
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
  /** Writes that failed (a lab watchdog whose reader is gone: EPIPE); feeding goes on trying. */
  writeErrors = 0;

  constructor(
    readonly path: string,
    readonly timeoutMs: number,
    /** The guard's view now; read at every feed (rule 8). */
    private readonly state: () => Promise<WatchdogState>,
    private readonly now: () => number,
    /** Feed period, ms: short, so that feeding resumes soon after the guard's kill. */
    private readonly intervalMs = WATCHDOG_FEED_INTERVAL_MS,
  ) {}

  /** Opens (and so arms) the device and starts feeding. */
  start(): void {
    try {
      // Write-only and never O_CREAT: a missing device must fail, not become a
      // regular file. O_NONBLOCK: a FIFO (the lab's emulated watchdog) with no
      // reader fails at once (ENXIO) instead of blocking the guard for ever.
      this.fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
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
    if (disarm) this.write('V');
    closeSync(this.fd);
    this.fd = null;
  }

  private async feedIfAllowed(): Promise<void> {
    const { leaseEnd, groupsRunning } = await this.state();
    if (this.fd === null || !mayFeedWatchdog(this.now(), leaseEnd, groupsRunning, this.timeoutMs)) return;
    if (this.write('\0')) this.fed++;
  }

  /** A failed write must not take the guard down: the watchdog then simply is not fed. */
  private write(text: string): boolean {
    if (this.fd === null) return false;
    try {
      writeSync(this.fd, text);
      return true;
    } catch {
      this.writeErrors++;
      return false;
    }
  }
}
