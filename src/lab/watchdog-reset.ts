// What a fired watchdog does to a lab node: what a power cut does to a
// machine. Every process of the node dies at once (SIGKILL, stopped ones
// too): every process of its groups (cgroup.kill of the node's cgroup root,
// `<cgroup2>/fcm/<nodeId>`), its agent, the agent's children (the resource
// monitors, the guard it started) and its lease guard. What a reboot clears
// goes as well: the groups' cgroups and the kernel state of their undo
// journals. The node stays down until `fcm lab start`.
//
// A node's processes are found by argv: the agent runs with `--state-dir
// STATE` and its guard with `--state-dir STATE/guard`, plus all their
// descendants (/proc/PID/task/*/children). Each is signalled by PID only
// after checking its start time (process-identity.ts).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openContainment } from '../agent/guard/cgroups.js';
import type { GroupContainment } from '../agent/guard/cgroups.js';
import { guardStateDir } from '../agent/guard/guard-protocol.js';
import { UndoJournal, journaledGroups } from '../agent/guard/undo-journal.js';
import { processIdentity, waitUntilGone } from '../os/process-identity.js';
import type { ProcessIdentity } from '../os/process-identity.js';
import { signal } from './processes.js';

/** The agent's identity file (agent/node/identity.ts, not imported: it loads ssh2). */
const IDENTITY_FILE = 'identity.json';

/** How long the node's processes and groups get to vanish after SIGKILL, ms. */
const KILL_WAIT_MS = 5000;

export interface PowerCutReport {
  /** PIDs of the node's fcm processes killed (agent, monitors, guard, their children). */
  killed: number[];
  /** Groups whose cgroups were emptied and removed. */
  groups: string[];
  /** What could not be done. */
  errors: string[];
}

/** Resets the node whose agent state directory is `stateDir`. Never throws: what fails is in `errors`. */
export async function powerCut(stateDir: string): Promise<PowerCutReport> {
  const report: PowerCutReport = { killed: [], groups: [], errors: [] };
  const guardDir = guardStateDir(stateDir);
  const containment = await nodeContainment(stateDir, guardDir).catch((err: unknown) => {
    report.errors.push(`cannot open the node's groups: ${(err as Error).message}`);
    return null;
  });
  // First the groups, in one write: they are what must not outlive the lease.
  if (containment?.kind === 'cgroup') {
    await writeFile(join(containment.root, 'cgroup.kill'), '1').catch((err: unknown) => report.errors.push(`cgroup.kill ${containment.root}: ${(err as Error).message}`));
  }
  const processes = await nodeProcesses([stateDir, guardDir]);
  for (const p of processes) if (signal(p, 'SIGKILL') === 'sent') report.killed.push(p.pid);
  const gone = await Promise.all(processes.map((p) => waitUntilGone(p, KILL_WAIT_MS)));
  processes.forEach((p, i) => {
    if (gone[i] !== true) report.errors.push(`pid ${p.pid} is still there ${KILL_WAIT_MS} ms after SIGKILL`);
  });
  if (containment !== null) {
    for (const group of await containment.groups().catch(() => [])) {
      const outcome = await containment.kill(group, KILL_WAIT_MS).catch((err: unknown) => (err as Error).message);
      if (typeof outcome === 'string') report.errors.push(`group ${group}: ${outcome}`);
      else if (!outcome.empty) report.errors.push(`group ${group}: processes remain`);
      else report.groups.push(group);
    }
    await containment.close().catch((err: unknown) => report.errors.push(`removing ${containment.root}: ${(err as Error).message}`));
  }
  for (const group of await journaledGroups(guardDir).catch(() => [])) {
    const undo = await new UndoJournal(guardDir, group).undo().catch((err: unknown) => (err as Error).message);
    if (typeof undo === 'string') report.errors.push(`undo ${group}: ${undo}`);
    else report.errors.push(...undo.failures.map((f) => `undo ${group}: ${f.message}`));
  }
  return report;
}

export function describePowerCut(report: PowerCutReport): string {
  const what = `killed pids [${report.killed.join(', ')}], removed groups [${report.groups.join(', ')}]`;
  return report.errors.length === 0 ? what : `${what}; PROBLEMS: ${report.errors.join('; ')}`;
}

/**
 * The node's containment as its guard opens it (named by the node id in
 * identity.json); null when the node never got an identity (so no group).
 */
async function nodeContainment(stateDir: string, guardDir: string): Promise<GroupContainment | null> {
  const text = await readFile(join(stateDir, IDENTITY_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  const nodeId: unknown = (JSON.parse(text) as { nodeId?: unknown }).nodeId;
  if (typeof nodeId !== 'string') throw new Error(`${IDENTITY_FILE} names no nodeId`);
  return openContainment({ nodeName: nodeId, stateDir: guardDir, warn: () => undefined });
}

/** Live processes started with `--state-dir D` for a D of `stateDirs`, and all their descendants. */
export async function nodeProcesses(stateDirs: readonly string[]): Promise<ProcessIdentity[]> {
  const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid);
  const argvs = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'latin1').then((t) => t.split('\0'), () => [])));
  const found = new Set<number>();
  pids.forEach((pid, i) => {
    const argv = argvs[i] ?? [];
    if (argv.some((arg, k) => arg === '--state-dir' && stateDirs.includes(argv[k + 1] ?? ''))) found.add(pid);
  });
  const queue = [...found];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of await childrenOf(pid)) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return [...found].map((pid) => processIdentity(pid)).filter((p): p is ProcessIdentity => p !== undefined);
}

/** Children of every thread of `pid` (a child belongs to the thread that forked it). */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const lists = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')));
  return lists.flatMap((l) => l.split(' ').filter((s) => s !== '').map(Number));
}
