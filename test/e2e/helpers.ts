// The built CLI as a user runs it, against real agents started by `fcm lab`.
// Paths come from this file's URL, so the tests work from any dist-* folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';

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

/** A lab a test file starts in `before` and ends with `closeTestLab` in `after`. */
export interface TestLab<Up> {
  tmp: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** What `fcm lab up --json` printed. */
  up: Up;
}

/** `fcm lab up --nodes N` in a fresh temp dir named after `prefix`, with labTestEnv. */
export async function openTestLab<Up>(prefix: string, nodes = 3): Promise<TestLab<Up>> {
  const tmp = await mkdtemp(join(tmpdir(), `fcm-e2e-${prefix}-`));
  const dir = join(tmp, 'lab');
  const env = labTestEnv(tmp, dir);
  return { tmp, dir, env, up: fcmJson<Up>(env, ['lab', 'up', '--nodes', String(nodes), '--dir', dir], 90_000) };
}

/**
 * Takes the lab down (takeLabDown with the lab dir and `marks`) and asserts
 * that `lab down` succeeded and left no process; with `nodeIds`, that no
 * cgroup of those nodes is left; with `removed`, that the lab dir is gone.
 * The temp dir is removed whatever happens.
 */
export async function closeTestLab(lab: TestLab<unknown>, checks: { marks?: string[]; nodeIds?: Iterable<string>; removed?: boolean; leftMessage?: string } = {}): Promise<void> {
  const { down, left } = takeLabDown(lab.env, [lab.dir, ...(checks.marks ?? [])]);
  try {
    assert.equal(down.status, 0, down.err);
    assert.deepEqual(left, [], checks.leftMessage ?? 'no lab process is left');
    if (checks.nodeIds !== undefined) {
      const mount = await findCgroup2Mount();
      const cgroupsLeft = [];
      for (const id of checks.nodeIds) if (mount !== null && (await stat(join(mount, 'fcm', id)).then(() => true, () => false))) cgroupsLeft.push(id);
      assert.deepEqual(cgroupsLeft, [], 'no cgroup of the lab\'s nodes is left');
    }
    if (checks.removed === true) assert.equal(existsSync(lab.dir), false, 'the lab directory is removed');
  } finally {
    await rm(lab.tmp, { recursive: true, force: true });
  }
}
