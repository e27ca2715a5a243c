// Resident memory of a lab node's fcm processes, read from /proc as an
// administrator would (VmRSS): the agent (its pid in lab.json), its resource
// monitors (its children running monitor-main.js) and its lease guard (the
// guard-main.js process whose --state-dir is the node's guard directory).
// The guard cannot be asked its pid while the agent holds its one
// connection (a second one is refused with E_BUSY), so /proc it is.
// VmRSS counts the pages of the node binary and its libraries (~35 MiB, file
// backed, the same pages in every Node process) once per process; RssAnon
// is what each process holds on its own, so the private sum is reported too.
// What the three processes occupy together is their private pages plus the
// shared file pages once: sum(RssAnon + RssShmem) + max(RssFile) (the file
// pages of one process are, within a few hundred KiB, the other two's).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Rss {
  /** VmRSS, bytes. */
  rss: number;
  /** RssAnon: heap, stacks, private data, bytes. */
  anon: number;
  /** RssFile: mapped files (the node binary and its libraries), bytes. */
  file: number;
  /** RssShmem, bytes. */
  shmem: number;
}

export interface NodeRss {
  node: string;
  agentBytes: number;
  /** Every monitor process of the node (shared and isolated), summed. */
  monitorBytes: number;
  monitors: number;
  guardBytes: number;
  /** VmRSS of agent + monitors + guard. */
  totalBytes: number;
  /** RssAnon of agent + monitors + guard: without the shared node binary. */
  anonBytes: number;
  /** What they occupy together: their private pages, and the shared file pages once. */
  togetherBytes: number;
}

export interface FcmNode {
  name: string;
  agentPid: number;
  stateDir: string;
}

interface ProcEntry {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** VmRSS and RssAnon of `pid` in bytes; 0 when it is gone. */
export async function rssOf(pid: number): Promise<Rss> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

async function processes(): Promise<ProcEntry[]> {
  const out: ProcEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const [stat, cmdline] = await Promise.all([readFile(`/proc/${name}/stat`, 'utf8'), readFile(`/proc/${name}/cmdline`, 'latin1')]);
      // The command name in parentheses may hold spaces: the fields after its last ')' are state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(name), ppid, cmdline: cmdline.replace(/\0/g, ' ') });
    } catch {
      // It exited while we looked.
    }
  }
  return out;
}

/** The RSS of each node's agent, monitors and guard, read in one pass over /proc. */
export async function fcmRss(nodes: readonly FcmNode[]): Promise<NodeRss[]> {
  const all = await processes();
  return Promise.all(nodes.map(async (node) => {
    const monitors = all.filter((p) => p.ppid === node.agentPid && p.cmdline.includes('monitor-main.js'));
    const guardArg = `--state-dir ${join(node.stateDir, 'guard')} `;
    const guard = all.find((p) => p.cmdline.includes('guard-main.js') && p.cmdline.includes(guardArg));
    const agent = await rssOf(node.agentPid);
    const monitorList = await Promise.all(monitors.map((m) => rssOf(m.pid)));
    const none: Rss = { rss: 0, anon: 0, file: 0, shmem: 0 };
    const monitor = monitorList.reduce((s, r) => ({ rss: s.rss + r.rss, anon: s.anon + r.anon, file: Math.max(s.file, r.file), shmem: s.shmem + r.shmem }), none);
    const guardRss = guard === undefined ? none : await rssOf(guard.pid);
    const parts = [agent, monitor, guardRss];
    return {
      node: node.name,
      agentBytes: agent.rss,
      monitorBytes: monitor.rss,
      monitors: monitors.length,
      guardBytes: guardRss.rss,
      totalBytes: agent.rss + monitor.rss + guardRss.rss,
      anonBytes: agent.anon + monitor.anon + guardRss.anon,
      togetherBytes: parts.reduce((sum, p) => sum + p.anon + p.shmem, 0) + Math.max(...parts.map((p) => p.file)),
    };
  }));
}

const MiB = 2 ** 20;
const mib = (bytes: number): number => Number((bytes / MiB).toFixed(1));

/** The same, in MiB, keyed by node name, for the report. */
export function rssReport(rss: readonly NodeRss[]): Record<string, { agentMiB: number; monitorMiB: number; monitors: number; guardMiB: number; totalMiB: number; anonTotalMiB: number; togetherMiB: number }> {
  return Object.fromEntries(rss.map((r) => [r.node, {
    agentMiB: mib(r.agentBytes), monitorMiB: mib(r.monitorBytes), monitors: r.monitors, guardMiB: mib(r.guardBytes), totalMiB: mib(r.totalBytes), anonTotalMiB: mib(r.anonBytes),
    togetherMiB: mib(r.togetherBytes),
  }]));
}

export const maxTotalMiB = (rss: readonly NodeRss[]): number => mib(Math.max(0, ...rss.map((r) => r.totalBytes)));
export const maxAnonMiB = (rss: readonly NodeRss[]): number => mib(Math.max(0, ...rss.map((r) => r.anonBytes)));
export const maxTogetherMiB = (rss: readonly NodeRss[]): number => mib(Math.max(0, ...rss.map((r) => r.togetherBytes)));
