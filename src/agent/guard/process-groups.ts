// The fallback containment, for machines without cgroup v2 or cgroup.kill:
// each process started for a group leads a process group of its own, and the
// group's directory records those process group ids, each with the leader's
// start time. Killing is kill(-pgid, SIGKILL) for each. A process that
// leaves its process group (setsid, a double-forking daemon) escapes this,
// which is why openContainment() warns when it falls back to it.

import { mkdir, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GroupContainment, KillOutcome } from './cgroups.js';
import { monotonicMs } from './clock.js';
import { GuardError, assertGroupName, errnoCode, groupNameProblems } from './guard-error.js';

/** Poll of /proc while waiting for killed processes to exit, ms. */
const EXIT_POLL_MS = 2;

/**
 * $1 is the group's directory, the rest the command. Run with `detached:
 * true`, the shell leads a new session and process group (pgid = $$); it
 * checks that, records "$$" with its start time (field 22 of
 * /proc/$$/stat), then execs the command. Exit status 125: not recorded,
 * nothing ran.
 */
const ENTER_PROCESS_GROUP =
  'read -r s < /proc/$$/stat; s=${s##*) }; f() { [ "$3" = "$$" ] || exit 125; t=${20}; }; f $s; ' +
  'echo "$t" > "$1/$$" || exit 125; shift; exec "$@"';

export interface ProcStat {
  /** R, S, D, Z, ... (proc(5)). */
  state: string;
  pgrp: number;
  /** Clock ticks after boot: with the pid, identifies a process across pid reuse. */
  startTime: number;
}

/** /proc/<pid>/stat, or null when no such process exists. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}

export function spawnArgsInProcessGroup(groupDir: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new GuardError('E_INVALID', 'spawnArgsInProcessGroup: empty argv');
  return ['/bin/sh', '-c', ENTER_PROCESS_GROUP, 'fcm-enter-process-group', groupDir, ...argv];
}

export class ProcessGroupTree implements GroupContainment {
  readonly kind = 'process-group';

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<ProcessGroupTree> {
    await mkdir(root, { recursive: true, mode: 0o700 });
    return new ProcessGroupTree(root);
  }

  groupDir(group: string): string {
    assertGroupName(group);
    return join(this.root, group);
  }

  async create(group: string): Promise<string> {
    const dir = this.groupDir(group);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  spawnArgs(group: string, argv: readonly string[]): string[] {
    return spawnArgsInProcessGroup(this.groupDir(group), argv);
  }

  async groups(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && groupNameProblems(e.name).length === 0).map((e) => e.name);
  }

  async pids(group: string): Promise<number[]> {
    return membersOf(await this.leaders(group));
  }

  async kill(group: string, timeoutMs: number): Promise<KillOutcome> {
    const deadline = monotonicMs() + timeoutMs;
    const pgids = await this.leaders(group);
    const pids = (await membersOf(pgids)).length;
    const start = monotonicMs();
    for (const pgid of pgids) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw err;
      }
    }
    let empty = (await membersOf(pgids)).length === 0;
    while (!empty && monotonicMs() < deadline) {
      await sleep(EXIT_POLL_MS);
      empty = (await membersOf(pgids)).length === 0;
    }
    const killMs = monotonicMs() - start;
    if (empty) await rm(this.groupDir(group), { recursive: true, force: true });
    return { group, pids, killMs, empty };
  }

  async close(): Promise<void> {
    await rmdir(this.root).catch(() => undefined);
  }

  /**
   * The recorded process group ids that still name this group's process
   * groups. A pgid's number cannot be reused while any member lives; once a
   * process with that pid exists again with another start time, the old
   * group is gone and the record is skipped, so an unrelated process group
   * is never signalled.
   */
  private async leaders(group: string): Promise<number[]> {
    const dir = this.groupDir(group);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const pgids: number[] = [];
    for (const name of names) {
      const pgid = Number(name);
      if (!Number.isInteger(pgid) || pgid <= 1) continue;
      const recorded = Number((await readFile(join(dir, name), 'utf8').catch(() => '')).trim());
      const now = await readProcStat(pgid);
      if (now === null || now.startTime === recorded) pgids.push(pgid);
    }
    return pgids;
  }
}

/** Live (not zombie) processes whose process group is one of `pgids`. */
async function membersOf(pgids: readonly number[]): Promise<number[]> {
  if (pgids.length === 0) return [];
  const wanted = new Set(pgids);
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const stats = await Promise.all(pids.map(async (pid) => ({ pid, stat: await readProcStat(pid) })));
  return stats.filter(({ stat }) => stat !== null && stat.state !== 'Z' && wanted.has(stat.pgrp)).map(({ pid }) => pid);
}
