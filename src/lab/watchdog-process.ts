// The watchdog emulator as the lab starts it: detached, before any agent of
// a lab made with --fencing watchdog (a guard's open of its device fails
// while no emulator holds the read end). Stop it with stopProcess(record),
// after every guard: on SIGTERM it closes the devices and resets nobody.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './lab-daemon.js';
import { LabError } from './lab-error.js';
import type { LabState } from './lab-state.js';
import type { ProcessRecord } from './processes.js';
import { parseWatchdogStatus } from './watchdog-config.js';
import type { WatchdogConfig, WatchdogStatusFile } from './watchdog-config.js';

const WATCHDOG_MAIN = fileURLToPath(new URL('./watchdog-main.js', import.meta.url));

/** T_wd of a lab's emulated watchdogs when --watchdog-timeout-ms is not given, ms: well under L - 2h - RTT (798 ms by default). */
export const DEFAULT_LAB_WATCHDOG_TIMEOUT_MS = 500;

/** The emulator's config for a lab with a watchdog: every node's device and state directory. */
export function watchdogConfigFor(state: LabState): WatchdogConfig {
  const watchdog = state.watchdog;
  if (watchdog === undefined) throw new LabError('E_INVALID', `the lab in ${state.dir} has no watchdog (fencing none)`);
  return {
    timeoutMs: watchdog.timeoutMs,
    pidFile: watchdog.pidFile,
    statusFile: watchdog.statusFile,
    nodes: state.nodes.flatMap((n) => (n.watchdog === undefined ? [] : [{ id: n.id, name: n.name, device: n.watchdog.device, stateDir: n.stateDir }])),
  };
}

/**
 * Writes the config, starts watchdog-main detached and waits until its pid
 * file names it (every device exists and is open for reading). One that
 * exits first is E_SPAWN with the end of its log; one not ready within
 * `timeoutMs` is stopped, E_TIMEOUT.
 */
export async function startWatchdogProcess(state: LabState, timeoutMs = 10_000): Promise<ProcessRecord> {
  const files = state.watchdog as NonNullable<LabState['watchdog']>;
  return startDaemon('the watchdog emulator', WATCHDOG_MAIN, watchdogConfigFor(state), files, timeoutMs);
}

/** What the emulator last wrote about every node; null when there is nothing readable. */
export async function readWatchdogStatus(statusFile: string): Promise<WatchdogStatusFile | null> {
  try {
    return parseWatchdogStatus(JSON.parse(await readFile(statusFile, 'utf8')));
  } catch {
    return null;
  }
}
