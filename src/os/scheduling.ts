// CPU scheduling priority of fcm's own processes. Heartbeats, lease
// renewals and the lease guard's deadline must be served on time however
// busy the node's resources keep its cores: an agent that waits its turn
// behind a thousand starting processes misses its leader's lease, and then
// every node's guard stops every group (measured: 5 lab nodes on 2 cores,
// 1,000 resources starting at once). So the agent runs at a raised priority
// (nice -10 by default) that its lease guard inherits, while the resource
// monitor drops back to the default, as does everything it starts.
//
// Linux shares CPU between scheduler autogroups (one per session, when
// /proc/sys/kernel/sched_autogroup_enabled is 1) before it weighs threads
// by their nice values inside a group, and resources start in sessions of
// their own; a thread's nice value alone then buys nothing against them.
// The agent therefore sets its autogroup's nice value too, when it has
// one: a process in the kernel's first session (a container's init, say)
// is in the root group, whose /proc/PID/autogroup reads empty and refuses
// a nice value (EINVAL); there its threads already compete one by one with
// every autogroup, and their own nice values are what counts. Nice values
// belong to threads: every thread that exists is set, and threads started
// later inherit the value from the thread that starts them.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of fcm agents unless `fcm agent run --nice` says otherwise. */
export const DEFAULT_AGENT_NICE = -10;

export const MIN_NICE = -20;
export const MAX_NICE = 19;

export interface NiceOptions {
  /** Also set the nice value of this process's autogroup (Linux, when autogroups are on). */
  autogroup: boolean;
}

/**
 * Sets the nice value of every thread of this process (and, with
 * `autogroup`, of its autogroup). Returns what could not be done, one line
 * per kind of failure: raising priority needs root (CAP_SYS_NICE).
 */
export function setProcessNice(nice: number, options: NiceOptions): string[] {
  const problems = new Set<string>();
  if (options.autogroup && inAutogroup()) {
    try {
      writeFileSync('/proc/self/autogroup', `${nice}\n`);
    } catch (err) {
      problems.add(`autogroup: ${messageOf(err)}`);
    }
  }
  for (const tid of threadIds()) {
    try {
      setPriority(tid, nice);
    } catch (err) {
      // A thread that ended since the listing is no problem.
      if (errnoOf(err) !== 'ESRCH') problems.add(`threads: ${messageOf(err)}`);
    }
  }
  return [...problems];
}

/** The nice value of this process's main thread. */
export function processNice(): number {
  return getPriority(process.pid);
}

/** False without autogroups in the kernel (no file) and in the root group (an empty line). */
function inAutogroup(): boolean {
  try {
    return readFileSync('/proc/self/autogroup', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((tid) => Number.isSafeInteger(tid) && tid > 0);
  } catch {
    // No /proc: the calling thread is the one that can be set.
    return [0];
  }
}

function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, info } = err as { code?: unknown; info?: { code?: unknown } };
  // os.setPriority throws a SystemError whose errno name is in info.code.
  if (typeof info?.code === 'string') return info.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
