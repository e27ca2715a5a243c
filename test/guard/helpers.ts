// Shared by the lease guard tests: a writable cgroup v2 (or a reason to
// skip), bounded waits, processes in a group, and the guard as a process.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GroupContainment } from '../../src/agent/guard/cgroups.js';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';
import { readProcStat } from '../../src/agent/guard/process-groups.js';

/** The cgroup2 mount when this process may make cgroups with cgroup.kill there, else why not (the skip message). */
async function probeCgroup2(): Promise<{ mount: string } | { skip: string }> {
  const mount = await findCgroup2Mount();
  if (mount === null) return { skip: 'SKIPPED: no cgroup v2 mount in /proc/self/mountinfo' };
  const probe = join(mount, `fcm-guard-probe-${process.pid}`);
  try {
    await mkdir(probe);
  } catch (err) {
    return { skip: `SKIPPED: cgroup v2 at ${mount} is not writable (${(err as Error).message}); run as root` };
  }
  try {
    await access(join(probe, 'cgroup.kill'));
    return { mount };
  } catch {
    return { skip: 'SKIPPED: this kernel has no cgroup.kill (Linux 5.14+ needed)' };
  } finally {
    await rmdir(probe);
  }
}

const probed = await probeCgroup2();
/** `skip` option for tests that need cgroups: false, or the reason. */
export const cgroupSkip: string | false = 'skip' in probed ? probed.skip : false;
export const rootSkip: string | false = process.getuid?.() === 0 ? false : 'SKIPPED: needs root';

let roots = 0;
/** A fresh cgroup root for one test, below the cgroup2 mount. */
export function testCgroupRoot(): string {
  if ('skip' in probed) throw new Error(probed.skip);
  return join(probed.mount, `fcm-guard-test-${process.pid}-${roots++}`);
}

/** Kills whatever is left under a test's cgroup root and removes it (for finally blocks). */
export async function removeCgroupRoot(root: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroupRoot(join(root, e.name));
  await writeFile(join(root, 'cgroup.kill'), '1').catch(() => undefined);
  await waitFor(async () => rmdir(root).then(() => true, () => false), 5000, `rmdir ${root}`).catch(() => undefined);
}

export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  for (let waited = 0; ; waited += 10) {
    if (await condition()) return;
    if (waited >= timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export async function allDead(pids: readonly number[]): Promise<boolean> {
  return (await Promise.all(pids.map(isAlive))).every((alive) => !alive);
}

/** Children this test file started, killed by PID in `killChildren` (finally). */
const children: ChildProcess[] = [];

export function killChildren(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Starts `script` (sh) inside `group` and waits until the group has at least
 * `expected` processes; returns their pids.
 */
export async function startInGroup(containment: GroupContainment, group: string, script: string, expected: number): Promise<number[]> {
  await containment.create(group);
  const [file = '', ...args] = containment.spawnArgs(group, ['/bin/sh', '-c', script]);
  const child = spawn(file, args, { detached: true, stdio: 'ignore' });
  children.push(child);
  let pids: number[] = [];
  await waitFor(async () => (pids = await containment.pids(group)).length >= expected, 10_000, `${expected} processes in ${group}`);
  return pids;
}

/** N sleeping processes: one sh starting N - 1 in the background, then becoming the last. */
export function sleepers(n: number): string {
  return `i=1; while [ $i -lt ${n} ]; do sleep 1000 & i=$((i+1)); done; exec sleep 1000`;
}

export interface GuardProcess {
  child: ChildProcess;
  stderr: () => string;
}

const GUARD_MAIN = new URL('../../src/agent/guard/guard-main.js', import.meta.url).pathname;

/** Starts guard-main and waits for its ready line (bounded). */
export async function startGuard(args: string[]): Promise<GuardProcess> {
  const child = spawn(process.execPath, [GUARD_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => out.includes('"event":"ready"') || child.exitCode !== null, 15_000, 'the guard to be ready');
  if (!out.includes('"event":"ready"')) throw new Error(`guard did not start (exit ${child.exitCode}): ${err}`);
  return { child, stderr: () => err };
}

/** SIGTERM by PID, then wait for the exit (SIGKILL after 10 s); returns the exit code. */
export async function stopGuard(guard: GuardProcess): Promise<number | null> {
  const { child } = guard;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A raw JSON-lines connection, for what GuardClient would never send. */
export class LineSocket {
  private buffered = '';
  private readonly lines: string[] = [];
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let i: number;
      while ((i = this.buffered.indexOf('\n')) >= 0) {
        this.lines.push(this.buffered.slice(0, i));
        this.buffered = this.buffered.slice(i + 1);
      }
    });
  }

  static open(path: string): Promise<LineSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => resolve(new LineSocket(socket)));
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** The next reply line, parsed (bounded wait). */
  async next(): Promise<Record<string, unknown>> {
    await waitFor(() => this.lines.length > 0, 10_000, 'a reply from the guard');
    return JSON.parse(this.lines.shift() ?? '') as Record<string, unknown>;
  }
}
