// A remembered process is {pid, startTime}, and is signalled only after
// checking that the PID still names that process: the kernel recycles a PID
// once its process is reaped, and the start time (clock ticks since boot,
// /proc/PID/stat field 22) is what tells the two apart.

import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks since boot. Opaque: compared, never converted. */
  startTime: number;
}

interface ProcStat {
  /** R, S, D, T, Z (zombie), X (dead), ... */
  state: string;
  startTime: number;
}

/**
 * Synchronous on purpose: /proc is generated in memory (microseconds), and
 * right after spawn it must be read before the event loop can reap a child
 * that exited at once.
 */
function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may itself contain ") ": split after the last one.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = Number(rest[19]); // field 22 is index 22 - 3 here
  if (state === undefined || !Number.isSafeInteger(startTime)) return undefined;
  return { state, startTime };
}

/**
 * A process has exited when its leader is dead or a zombie AND no other
 * thread of it remains. A multi-threaded process (node is one) shows its
 * leader as a zombie while its other threads are still exiting and its
 * files, listening sockets included, are still open.
 */
function hasExited(pid: number, stat: ProcStat): boolean {
  if (stat.state !== 'Z' && stat.state !== 'X') return false;
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** The identity of a live process, or undefined if there is none (or only a zombie). */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid);
  if (stat === undefined || hasExited(pid, stat)) return undefined;
  return { pid, startTime: stat.startTime };
}

/** True while the process is alive: same PID, same start time, not exited (see hasExited). */
export function isSameProcess(identity: ProcessIdentity): boolean {
  const stat = readProcStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime && !hasExited(identity.pid, stat);
}

/**
 * Signal the process group led by the remembered process, if the leader is
 * still that process. Resource processes are started as session leaders, so
 * their pid is their process group id; the group takes the helpers they
 * started with them. False: the process is gone (never signalled).
 * (A PID could be recycled between the check and kill(2), microseconds
 * apart; Node has no pidfd to close that gap.)
 */
export function signalGroupIfSame(identity: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isSameProcess(identity)) return false;
  try {
    process.kill(-identity.pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Poll until the process is gone or `ms` pass; true if it is gone. `abort` ends the wait early (false). */
export async function waitUntilGone(
  identity: ProcessIdentity, ms: number, options: { abort?: AbortSignal; pollMs?: number } = {},
): Promise<boolean> {
  const { abort, pollMs = 20 } = options;
  const deadline = performance.now() + ms;
  while (isSameProcess(identity)) {
    if (performance.now() >= deadline || abort?.aborted === true) return false;
    await sleep(pollMs);
  }
  return true;
}
