// One agent per state directory: `agent.lock` holds the owner's pid and
// process start time (/proc/PID/stat field 22, clock ticks since boot), so
// a lock left by a killed agent is told apart from a live one even after
// the kernel recycles its pid.
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from './agent-error.js';
import { isObject } from './state-files.js';
import { processIdentity } from '../../os/process-identity.js';

export const LOCK_FILE = 'agent.lock';

interface LockOwner {
  pid: number;
  startTime: number;
}

export class StateDirLock {
  private constructor(private readonly path: string, private readonly owner: LockOwner) {}

  /** Takes the lock or throws E_STATE_DIR_LOCKED naming the live owner. A stale lock is replaced. */
  static async acquire(stateDir: string): Promise<StateDirLock> {
    const path = join(stateDir, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, startTime: processIdentity(process.pid)?.startTime ?? 0 };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const file = await open(path, 'wx', 0o600);
        try {
          await file.writeFile(`${JSON.stringify(owner)}\n`);
        } finally {
          await file.close();
        }
        return new StateDirLock(path, owner);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readOwner(path);
      if (holder && isAlive(holder)) {
        throw new AgentError('E_STATE_DIR_LOCKED', `another agent (pid ${holder.pid}) is using ${stateDir}`, 'stop it first, or give this agent its own --state-dir');
      }
      // Stale: its owner is gone (or the file is unreadable junk from a crash while writing it).
      await unlink(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    throw new AgentError('E_STATE_DIR_LOCKED', `could not take ${path}: other agents keep starting in ${stateDir}`);
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    const holder = await readOwner(this.path);
    if (holder && holder.pid === this.owner.pid && holder.startTime === this.owner.startTime) {
      await unlink(this.path).catch(() => undefined);
    }
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (isObject(parsed) && Number.isSafeInteger(parsed.pid) && Number.isSafeInteger(parsed.startTime)) {
      return { pid: parsed.pid as number, startTime: parsed.startTime as number };
    }
  } catch {
    // Missing or unreadable: treated as stale.
  }
  return null;
}

function isAlive(owner: LockOwner): boolean {
  const live = processIdentity(owner.pid);
  return live !== undefined && (owner.startTime === 0 || live.startTime === owner.startTime);
}
