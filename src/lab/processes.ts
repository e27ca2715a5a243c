// Background processes of the lab (agents, the relay): started detached with
// output to files, remembered as {pid, startTime}, and signalled only after
// checking that the PID still names the same process. A PID is recycled by
// the kernel once its process is reaped; the start time (clock ticks since
// boot, /proc/PID/stat field 22) is what tells the two apart.
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { isSameProcess, processIdentity, waitUntilGone } from '../os/process-identity.js';
import type { ProcessIdentity } from '../os/process-identity.js';
import { LabError, errnoCode } from './lab-error.js';

/** A remembered process: {pid, startTime} (see src/os/process-identity.ts). */
export type ProcessRecord = ProcessIdentity;

export interface StartOptions {
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here: a file, never a pipe the parent would have to drain. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Start a process in its own session (it survives the parent, and a terminal's
 * Ctrl-C does not reach it), with stdin from /dev/null and output to `logFile`.
 */
export async function startDetached(options: StartOptions): Promise<ProcessRecord> {
  const log = await open(options.logFile, 'a', 0o600);
  try {
    const child = spawn(options.command, [...options.args], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    const record = await new Promise<ProcessRecord>((resolve, reject) => {
      child.once('error', (err) => reject(new LabError('E_SPAWN', `cannot start ${options.command}: ${err.message}`, [], { cause: err })));
      child.once('spawn', () => {
        const pid = child.pid as number;
        const identity = processIdentity(pid);
        if (identity === undefined) reject(new LabError('E_SPAWN', `${options.command} (pid ${pid}) vanished at once; see ${options.logFile}`));
        else resolve(identity);
      });
    });
    // The parent may exit or go on without waiting for this child.
    child.unref();
    return record;
  } finally {
    await log.close();
  }
}

export type SignalOutcome = 'sent' | 'gone';

/**
 * Send `sig` to the recorded process if it is still that process. 'gone'
 * means it exited, or its PID now belongs to another process, which is
 * never signalled. (A PID could in theory be recycled between the check and
 * kill(2), microseconds apart; Node has no pidfd to close that gap.)
 */
export function signal(record: ProcessRecord, sig: NodeJS.Signals): SignalOutcome {
  if (!isSameProcess(record)) return 'gone';
  try {
    process.kill(record.pid, sig);
    return 'sent';
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return 'gone';
    throw err;
  }
}

export interface StopOptions {
  /** How long SIGTERM gets before SIGKILL, in ms. */
  graceMs?: number;
  /** How long to wait for the process to vanish after SIGKILL, in ms (a process in uninterruptible sleep can outlast it). */
  killWaitMs?: number;
  /** Poll interval while waiting, in ms. */
  pollMs?: number;
}

export type StopOutcome = 'already-gone' | 'terminated' | 'killed';

/** SIGTERM, wait up to graceMs, then SIGKILL and wait until gone (bounded by killWaitMs: E_TIMEOUT). */
export async function stopProcess(record: ProcessRecord, options: StopOptions = {}): Promise<StopOutcome> {
  const { graceMs = 5000, killWaitMs = 5000, pollMs = 20 } = options;
  if (signal(record, 'SIGTERM') === 'gone') return 'already-gone';
  if (await waitUntilGone(record, graceMs, { pollMs })) return 'terminated';
  if (signal(record, 'SIGKILL') === 'gone') return 'terminated';
  if (await waitUntilGone(record, killWaitMs, { pollMs })) return 'killed';
  throw new LabError('E_TIMEOUT', `process ${record.pid} is still there ${killWaitMs} ms after SIGKILL`);
}

/** Problems with a value that should be a ProcessRecord (for state and pid files). */
export function processRecordProblems(value: unknown, where: string): string[] {
  if (typeof value !== 'object' || value === null) return [`${where}: expected {pid, startTime}`];
  const { pid, startTime } = value as { pid?: unknown; startTime?: unknown };
  const problems: string[] = [];
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) problems.push(`${where}.pid: expected a positive integer`);
  if (typeof startTime !== 'number' || !Number.isSafeInteger(startTime) || startTime < 0) problems.push(`${where}.startTime: expected a non-negative integer`);
  return problems;
}
