// Where a group's processes live, so that all of them can be killed at once
// (rule 5). Preferred: one cgroup v2 per group under a root for this node
// (`<mount>/fcm/<node>/<group>` by default), killed with `cgroup.kill`,
// which reaches every descendant however it forked or whatever session it
// made. Fallback, with a warning: process groups (process-groups.ts).

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { access, mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs } from './clock.js';
import { GuardError, assertGroupName, errnoCode, groupNameProblems, refuseProblems } from './guard-error.js';
import { readMounts } from './mountinfo.js';
import { ProcessGroupTree } from './process-groups.js';

export interface KillOutcome {
  group: string;
  /** Processes the group had just before the kill. */
  pids: number;
  /** ms from the kill signal to an empty group. */
  killMs: number;
  /** False when processes remained at the timeout (a process stuck in the kernel, say). */
  empty: boolean;
}

/** The place of every group's processes on this node; the guard kills through it, the monitor starts through it. */
export interface GroupContainment {
  readonly kind: 'cgroup' | 'process-group';
  /** The cgroup root, or the directory of process-group records. */
  readonly root: string;
  /** Makes the group's directory (idempotent) and returns it. */
  create(group: string): Promise<string>;
  /**
   * The argv that runs `argv` inside the group, entered before exec. Spawn
   * it with `detached: true` (the process-group fallback needs its own group).
   */
  spawnArgs(group: string, argv: readonly string[]): string[];
  /** Groups present now. */
  groups(): Promise<string[]>;
  /** Live processes of the group (none when it does not exist). */
  pids(group: string): Promise<number[]>;
  /** Kills every process of the group, waits up to `timeoutMs` for none to remain, then removes its directory. */
  kill(group: string, timeoutMs: number): Promise<KillOutcome>;
  /** Removes the root directory, and the parents this containment made, if they are empty. */
  close(): Promise<void>;
}

/** Backstop poll of cgroup.events, ms; inotify on the file usually wakes us first. */
const EVENTS_POLL_MS = 5;

/** The sh script behind spawnArgsInCgroup: $1 is the cgroup directory, the rest the command. */
const ENTER_CGROUP = 'echo $$ > "$1/cgroup.procs" || exit 125; shift; exec "$@"';

/**
 * argv that moves itself into `cgroupDir` and then execs `argv`, so the
 * command is inside the cgroup before its first instruction runs. Exit status
 * 125: the cgroup could not be entered, and nothing ran.
 */
export function spawnArgsInCgroup(cgroupDir: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new GuardError('E_INVALID', 'spawnArgsInCgroup: empty argv');
  return ['/bin/sh', '-c', ENTER_CGROUP, 'fcm-enter-cgroup', cgroupDir, ...argv];
}

export class CgroupTree implements GroupContainment {
  readonly kind = 'cgroup';

  private constructor(
    readonly root: string,
    /** Directories open() made, outermost first: close() removes them. */
    private readonly made: string[],
  ) {}

  /** Makes `root` below a cgroup2 mount; E_NO_CGROUP when that fails or the kernel lacks cgroup.kill (before Linux 5.14). */
  static async open(root: string): Promise<CgroupTree> {
    const mount = (await readMounts()).find((m) => m.fsType === 'cgroup2' && root.startsWith(`${m.mountPoint}/`));
    if (mount === undefined) throw new GuardError('E_NO_CGROUP', `${root} is not below a cgroup2 mount`);
    const made: string[] = [];
    let dir = mount.mountPoint;
    try {
      for (const part of root.slice(mount.mountPoint.length + 1).split('/').filter((p) => p !== '')) {
        dir = join(dir, part);
        if (await exists(dir)) continue;
        await mkdir(dir);
        made.push(dir);
      }
    } catch (err) {
      await removeEmpty(made);
      throw new GuardError('E_NO_CGROUP', `cannot make cgroup ${dir}: ${(err as Error).message}`);
    }
    if (!(await exists(join(root, 'cgroup.kill')))) {
      await removeEmpty(made);
      throw new GuardError('E_NO_CGROUP', 'cgroup.kill is not supported by this kernel (Linux 5.14 or later needed)');
    }
    return new CgroupTree(root, made);
  }

  groupDir(group: string): string {
    assertGroupName(group);
    return join(this.root, group);
  }

  async create(group: string): Promise<string> {
    const dir = this.groupDir(group);
    await mkdir(dir).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
    return dir;
  }

  spawnArgs(group: string, argv: readonly string[]): string[] {
    return spawnArgsInCgroup(this.groupDir(group), argv);
  }

  async groups(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && groupNameProblems(e.name).length === 0).map((e) => e.name);
  }

  async pids(group: string): Promise<number[]> {
    return cgroupPids(this.groupDir(group));
  }

  async kill(group: string, timeoutMs: number): Promise<KillOutcome> {
    const dir = this.groupDir(group);
    const deadline = monotonicMs() + timeoutMs;
    const pids = (await cgroupPids(dir)).length;
    const start = monotonicMs();
    try {
      // cgroup.kill SIGKILLs every process of the cgroup and its descendants,
      // and refuses forks meanwhile, so nothing slips out while it works.
      await writeFile(join(dir, 'cgroup.kill'), '1');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { group, pids, killMs: 0, empty: true };
      throw err;
    }
    const empty = await waitUnpopulated(dir, deadline);
    const killMs = monotonicMs() - start;
    if (empty) await removeCgroup(dir, deadline);
    return { group, pids, killMs, empty };
  }

  /** Removes the root (the guard owns it, whoever made it) and the parents open() made, if empty. */
  async close(): Promise<void> {
    await removeEmpty(this.made.includes(this.root) ? this.made : [...this.made, this.root]);
  }
}

export interface ContainmentOptions {
  nodeName: string;
  /** The guard's state directory: the process-group fallback keeps its records there. */
  stateDir: string;
  /** Default `<cgroup2 mount>/fcm/<nodeName>`. Given explicitly, it must work: no fallback. */
  cgroupRoot?: string | undefined;
  warn: (message: string, fields: Record<string, unknown>) => void;
}

/** cgroups where the machine has them (cgroup v2 with cgroup.kill), else process groups with a warning. */
export async function openContainment(options: ContainmentOptions): Promise<GroupContainment> {
  refuseProblems('bad node name', groupNameProblems(options.nodeName, 'node'));
  if (options.cgroupRoot !== undefined) return CgroupTree.open(options.cgroupRoot);
  const mount = (await readMounts()).find((m) => m.fsType === 'cgroup2')?.mountPoint;
  let reason = 'cgroup v2 is not mounted';
  if (mount !== undefined) {
    try {
      return await CgroupTree.open(join(mount, 'fcm', options.nodeName));
    } catch (err) {
      if (!(err instanceof GuardError)) throw err;
      reason = err.message;
    }
  }
  options.warn(
    'WARNING: cgroup v2 with cgroup.kill is not usable, so groups are contained by process groups only: a process that leaves its process group (setsid, a daemon) can outlive the lease',
    { reason },
  );
  return ProcessGroupTree.open(join(options.stateDir, 'process-groups'));
}

/** Processes of the cgroup and its descendants; none when it does not exist. */
async function cgroupPids(dir: string): Promise<number[]> {
  let procs: string;
  let entries;
  try {
    procs = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const pids = procs.split('\n').filter((l) => l !== '').map(Number);
  for (const e of entries) if (e.isDirectory()) pids.push(...(await cgroupPids(join(dir, e.name))));
  return pids;
}

/** `populated 0` in cgroup.events: no process in the cgroup or below. A removed cgroup counts as empty. */
async function unpopulated(eventsFile: string): Promise<boolean> {
  try {
    return /^populated 0$/m.test(await readFile(eventsFile, 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw err;
  }
}

/** Waits for the cgroup to empty, until the monotonic `deadline` (ms); true when it did. */
async function waitUnpopulated(dir: string, deadline: number): Promise<boolean> {
  const eventsFile = join(dir, 'cgroup.events');
  if (await unpopulated(eventsFile)) return true;
  return new Promise<boolean>((resolve) => {
    let settled = false;
    let watcher: FSWatcher | null = null;
    const finish = (empty: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      watcher?.close();
      resolve(empty);
    };
    const check = (): void => {
      unpopulated(eventsFile).then(
        (empty) => {
          if (empty) finish(true);
          else if (monotonicMs() >= deadline) finish(false);
        },
        () => finish(false),
      );
    };
    // The kernel signals a change of cgroup.events as a file modification.
    try {
      watcher = watch(eventsFile, check);
      watcher.on('error', () => undefined);
    } catch {
      watcher = null;
    }
    const poll = setInterval(check, EVENTS_POLL_MS);
    check();
  });
}

/** rmdir of an emptied cgroup and its child cgroups, innermost first; retries EBUSY (exiting tasks) until `deadline`. */
async function removeCgroup(dir: string, deadline: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroup(join(dir, e.name), deadline);
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || monotonicMs() >= deadline) throw err;
      await sleep(1);
    }
  }
}

/** Removes the given directories innermost first, leaving any that are not empty. */
async function removeEmpty(dirs: readonly string[]): Promise<void> {
  for (const dir of [...dirs].reverse()) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
