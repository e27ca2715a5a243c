// The built CLI as a user runs it, against real agents started by `fcm lab`.
// Paths come from this file's URL, so the tests work from any dist-* folder.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The environment for a test's lab under `tmp`: a private XDG home (current
 * lab, known_hosts), FCM_LAB set to `labDir`, and no ssh-agent, so a test
 * touches nothing of the user's.
 */
export function labTestEnv(tmp: string, labDir: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), XDG_CONFIG_HOME: join(tmp, 'config'), FCM_LAB: labDir, SSH_AUTH_SOCK: '' };
}

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run {
  status: number | null;
  out: string;
  err: string;
}

/** Runs `fcm ...args` with `env`; bounded so a hung CLI fails the test instead of hanging it. */
export function fcm(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs = 30_000): Run {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, timeout: timeoutMs });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

/** Runs `fcm ...args --json`, expects exit 0 and returns the document. */
export function fcmJson<T>(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs?: number): T {
  const run = fcm(env, [...args, '--json'], timeoutMs);
  if (run.status !== 0) throw new Error(`fcm ${args.join(' ')} exited ${run.status}: ${run.out}${run.err}`);
  return JSON.parse(run.out) as T;
}

/** The error document of a failed `fcm ... --json`, with its exit status. */
export function fcmError(env: NodeJS.ProcessEnv, args: readonly string[]): { status: number | null; code: string; message: string; hint: string | null } {
  const run = fcm(env, [...args, '--json']);
  const { error } = JSON.parse(run.out) as { error: { code: string; message: string; hint: string | null } };
  return { status: run.status, ...error };
}

/** Polls `probe` until it returns a value; fails after `ms` naming what was awaited and the last value seen. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number, intervalMs = 50): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await sleep(intervalMs);
  }
}

/** PIDs of processes whose command line mentions `text` (a lab directory). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(text)) pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

/**
 * `fcm lab down`, then SIGKILL of every process still mentioning one of
 * `marks` (the lab directory, a resource's token), so that a failing run
 * leaves nothing running either. The caller asserts on what it returns.
 */
export function takeLabDown(env: NodeJS.ProcessEnv, marks: readonly string[]): { down: Run; left: number[] } {
  const down = fcm(env, ['lab', 'down'], 60_000);
  const left = marks.flatMap((mark) => processesMentioning(mark));
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It ended meanwhile.
    }
  }
  return { down, left };
}
