// Measurements behind assumption A2 (λ, K), for `fcm cluster validate` and
// the failover benchmark. They run the guard's own mechanisms on this
// machine under its current load: the deadline timer (λ) and a cgroup kill
// (K). Report the numbers next to the configured guardLatencyMs/killTimeMs.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupTree } from './cgroups.js';
import { monotonicMs } from './clock.js';
import { DeadlineTimer } from './deadline-timer.js';
import { GuardError } from './guard-error.js';
import { findCgroup2Mount } from './mountinfo.js';

export interface Distribution {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentiles of `values` (ms). */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
  return { samples: sorted.length, p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: sorted[sorted.length - 1] ?? NaN };
}

/**
 * λ: how late the guard's deadline timer acts (the monotonic time it finds
 * the deadline due, minus the deadline), over `samples` deadlines from 1 to
 * about 100 ms ahead, so that both the far and the near (ticking) paths run.
 */
export async function measureGuardLatency(samples: number): Promise<Distribution> {
  const lateness: number[] = [];
  for (let i = 0; i < samples; i++) {
    const deadline = monotonicMs() + 1 + ((i * 37) % 100);
    lateness.push(await new Promise<number>((resolve) => new DeadlineTimer((now) => resolve(now - deadline)).set(deadline)));
  }
  return distribution(lateness);
}

export interface KillTimeOptions {
  /** Processes in each killed group (default 10). */
  processes?: number;
  /** Where the temporary cgroups go (default `<cgroup2 mount>/fcm-measure-<pid>`); removed afterwards. */
  root?: string;
}

/** K (the kill part): from writing cgroup.kill to an empty cgroup, for groups of sleeping processes. */
export async function measureKillTime(samples: number, options: KillTimeOptions = {}): Promise<Distribution> {
  const processes = options.processes ?? 10;
  const mount = await findCgroup2Mount();
  const root = options.root ?? (mount === null ? null : join(mount, `fcm-measure-${process.pid}`));
  if (root === null) throw new GuardError('E_NO_CGROUP', 'cgroup v2 is not mounted: cannot measure the kill time');
  const tree = await CgroupTree.open(root);
  const times: number[] = [];
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const group = `kill-${i}`;
      await tree.create(group);
      // One sh that starts processes - 1 sleepers in the background, then becomes the last one.
      const script = `i=1; while [ $i -lt ${processes} ]; do sleep 1000 & i=$((i+1)); done; exec sleep 1000`;
      const [file = '', ...args] = tree.spawnArgs(group, ['/bin/sh', '-c', script]);
      const child = spawn(file, args, { detached: true, stdio: 'ignore' });
      children.push(child);
      for (let waited = 0; (await tree.pids(group)).length < processes; waited += 2) {
        if (waited > 5000 || child.exitCode !== null) throw new GuardError('E_INVALID', `the ${processes} processes of ${group} did not start`);
        await sleep(2);
      }
      const outcome = await tree.kill(group, 5000);
      if (!outcome.empty) throw new GuardError('E_KILL_TIMEOUT', `${group} did not empty within 5000 ms`);
      times.push(outcome.killMs);
    }
  } finally {
    for (const group of await tree.groups()) await tree.kill(group, 5000).catch(() => undefined);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await tree.close();
  }
  return distribution(times);
}
