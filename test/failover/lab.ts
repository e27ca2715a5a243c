// The lab the failover trials fault: started with the real CLI (`fcm lab up
// --nodes N --dir DIR`, optionally `--fencing watchdog`) in a private
// environment, driven with `fcm ...` as a user drives it, and read through
// the agents' API sockets with short timeouts (a stopped agent must not
// hang a trial). Everything here is asynchronous, so an Observer in the
// same process keeps an accurate clock.
import { readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentStatus, ClusterStatus, GroupView } from '../../src/client/api.js';
import { UnixSocketClient } from '../../src/client/unix-socket-client.js';
import { stopLabProcesses } from '../../src/lab/lab-control.js';
import { loadLabState } from '../../src/lab/lab-state.js';
import { isSameProcess, processIdentity } from '../../src/os/process-identity.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import { fcmJson, runFcm } from '../bench/cluster/fcm-cli.js';
import type { CliRun } from '../bench/cluster/fcm-cli.js';

export interface FailoverNode {
  /** The cluster name (node1): what `fcm lab kill|start|cut` and `group move --to` take. */
  name: string;
  /** The cluster's node id: the guard keeps the node's groups in <cgroup2>/fcm/<id>. */
  id: string;
  socket: string;
  stateDir: string;
  /** The agent's log (agent.log in its state dir). */
  logFile: string;
}

/** Longest wait for one agent answer while probing, ms: a stopped agent answers never. */
const PROBE_CALL_MS = 1500;
/** Heard from within this long, ms: a few heartbeats (h = 100 ms by default). */
const FRESH_MS = 500;

export class FailoverLab {
  private readonly helpCache = new Map<string, string>();

  private constructor(
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly nodes: FailoverNode[],
    /** `watchdog` when the lab's nodes feed emulated watchdogs (`lab up --fencing watchdog`), else the cluster's setting. */
    readonly fencing: string,
    /** The node lease L, ms. */
    readonly leaseMs: number,
  ) {}

  /** `fcm lab up --nodes N --dir <root>/lab [--fencing watchdog]`. */
  static async up(root: string, options: { nodes: number; fencing?: 'watchdog' }): Promise<FailoverLab> {
    const dir = join(root, 'lab');
    const env = { ...process.env, XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), FCM_LAB: dir, SSH_AUTH_SOCK: '' };
    const fencingArgs = options.fencing === undefined ? [] : ['--fencing', options.fencing];
    // `watchdog` is in the answer once `lab up --fencing` exists: null (or absent) means fencing none.
    const { doc } = await fcmJson<{ cluster: ClusterStatus; watchdog?: { timeoutMs: number } | null }>(env, ['lab', 'up', '--nodes', String(options.nodes), '--dir', dir, ...fencingArgs], 180_000);
    try {
      const state = await loadLabState(dir);
      const nodes = state.nodes.map((n) => {
        const id = doc.cluster.nodes.find((c) => c.name === n.name)?.id;
        if (id === undefined) throw new Error(`fcm lab up: the cluster has no node ${n.name}`);
        return { name: n.name, id, socket: n.socketPath, stateDir: n.stateDir, logFile: n.logFile };
      });
      const { doc: config } = await fcmJson<{ properties: Record<string, string | number> }>(env, ['config', 'get']);
      const leaseMs = Number(config.properties.nodeLease);
      if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new Error(`fcm config get: nodeLease is ${String(config.properties.nodeLease)}`);
      const fencing = (doc.watchdog ?? null) !== null ? 'watchdog' : String(config.properties.fencing ?? 'none');
      return new FailoverLab(dir, env, nodes, fencing, leaseMs);
    } catch (err) {
      // Nobody else holds the lab yet: take it down here.
      await runFcm(env, ['lab', 'down']);
      throw err;
    }
  }

  /** Whether this CLI's `fcm lab up` takes --fencing (emulated watchdogs): stop-all needs it. */
  static async offersFencing(): Promise<boolean> {
    return /(^|\s)--fencing(\s|$)/m.test((await runFcm(process.env, ['lab', 'up', '--help'])).out);
  }

  node(name: string): FailoverNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no lab node ${name}`);
    return node;
  }

  /** `fcm ...args`; throws with the output unless it exits 0. */
  async fcm(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
    const run = await runFcm(this.env, args, timeoutMs);
    if (run.status !== 0) throw new Error(`fcm ${args.join(' ')} exited ${run.status}: ${run.out}${run.err}`);
    return run;
  }

  /** Whether `fcm <command...> --help` lists `option`: options other engineers add appear here first. */
  async supports(command: readonly string[], option: string): Promise<boolean> {
    const key = command.join(' ');
    let help = this.helpCache.get(key);
    if (help === undefined) {
      help = (await runFcm(this.env, [...command, '--help'])).out;
      this.helpCache.set(key, help);
    }
    return new RegExp(`(^|\\s)${option}(\\s|,|$)`, 'm').test(help);
  }

  /** One API call on `node`'s socket, over a fresh connection. */
  async call<T>(node: FailoverNode, method: string, params: Record<string, unknown> = {}, timeoutMs = PROBE_CALL_MS): Promise<T> {
    const client = await UnixSocketClient.connect(node.socket, { callTimeoutMs: timeoutMs });
    try {
      // The typed client knows the methods; the trials read a few of them by name.
      return (await (client.call as (m: string, p: Record<string, unknown>) => Promise<unknown>)(method, params)) as T;
    } finally {
      await client.close();
    }
  }

  /** agent.status of every node that answers in time (stopped, killed and starting nodes are left out). */
  async statuses(): Promise<{ node: FailoverNode; status: AgentStatus }[]> {
    const all = await Promise.all(this.nodes.map(async (node) => ({ node, status: await this.call<AgentStatus>(node, 'agent.status').catch(() => null) })));
    return all.filter((s): s is { node: FailoverNode; status: AgentStatus } => s.status !== null);
  }

  /** The node that says it leads in the highest term, or null. */
  async leader(): Promise<{ node: FailoverNode; term: number } | null> {
    const leaders = (await this.statuses()).filter((s) => s.status.role === 'leader').sort((a, b) => b.status.term - a.status.term);
    const top = leaders[0];
    return top === undefined ? null : { node: top.node, term: top.status.term };
  }

  /** The group as the leader reads it (consistent), or null when no leader answers. */
  async group(group: string): Promise<GroupView | null> {
    const leader = await this.leader();
    if (leader === null) return null;
    return this.call<GroupView>(leader.node, 'group.show', { group, consistent: true }).catch(() => null);
  }

  /**
   * The cluster when it is settled, else what is not: every agent answers,
   * all follow one leader in one term and hold a node lease, and the leader
   * sees every node Up and heard from it within FRESH_MS. (Up alone is not
   * enough: a healed node's peer links take a while to come back, and a
   * trial started then faults a cluster that is still recovering.)
   */
  async settled(): Promise<{ leader: FailoverNode; cluster: ClusterStatus } | string> {
    const statuses = await this.statuses();
    const silent = this.nodes.filter((n) => !statuses.some((s) => s.node === n));
    if (silent.length > 0) return `no answer from ${silent.map((n) => n.name).join(', ')}`;
    const leader = statuses.find((s) => s.status.role === 'leader');
    if (leader === undefined) return 'no leader';
    const astray = statuses.filter((s) => s.status.term !== leader.status.term || s.status.leader?.name !== leader.node.name || s.status.leaseRemainingMs === null);
    if (astray.length > 0) return `${astray.map((s) => `${s.node.name} (${s.status.role}, term ${s.status.term}, leader ${s.status.leader?.name ?? 'none'}, lease ${s.status.leaseRemainingMs ?? 'none'})`).join(', ')} not with ${leader.node.name} in term ${leader.status.term}`;
    const cluster = await this.call<ClusterStatus>(leader.node, 'cluster.status', {}).catch(() => null);
    if (cluster === null) return `no cluster.status from ${leader.node.name}`;
    const stale = cluster.nodes.filter((n) => n.state !== 'Up' || n.lastHeardMs === null || n.lastHeardMs > FRESH_MS);
    if (stale.length > 0) return `${leader.node.name} sees ${stale.map((n) => `${n.name} ${n.state}, last heard ${n.lastHeardMs ?? '?'} ms ago`).join(', ')}`;
    return { leader: leader.node, cluster };
  }

  /** The running agent as lab.json records it (it changes with `fcm lab start`), or null when it is not running. */
  async agent(name: string): Promise<ProcessIdentity | null> {
    const state = await loadLabState(this.dir);
    const record = state.nodes.find((n) => n.name === name)?.process ?? null;
    return record !== null && isSameProcess(record) ? record : null;
  }

  /** The node's resource monitor: the agent's child running monitor-main.js, or null. */
  monitor(agent: ProcessIdentity): ProcessIdentity | null {
    const pid = childrenOf(agent.pid).find((p) => commandLine(p).includes('monitor-main.js'));
    return pid === undefined ? null : (processIdentity(pid) ?? null);
  }

  /**
   * The node's lease guard: the process running guard-main.js on the node's
   * guard dir (a child of the agent, or one an earlier life left), or null.
   * Found by its command line: the guard serves one connection, the agent's.
   */
  guard(node: FailoverNode): ProcessIdentity | null {
    const wanted = `--state-dir\0${join(node.stateDir, 'guard')}\0`;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmd = commandLine(Number(entry));
      if (cmd.includes('guard-main.js') && cmd.includes(wanted)) return processIdentity(Number(entry)) ?? null;
    }
    return null;
  }

  /**
   * Copies the agents', the relay's and the watchdog emulator's logs (and
   * `extra` files: name → text) into a new directory under the temp dir
   * that outlives the lab; returns its path.
   */
  async saveLogs(label: string, extra: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `fcm-failover-${label.replace(/[^A-Za-z0-9-]/g, '-')}-`));
    const files: [string, string][] = [
      ...this.nodes.map((n): [string, string] => [n.logFile, `${n.name}-agent.log`]),
      [join(this.dir, 'relay', 'relay.log'), 'relay.log'],
      [join(this.dir, 'watchdog', 'watchdog.log'), 'watchdog.log'],
    ];
    await Promise.all(files.map(([from, to]) => copyFile(from, join(dir, to)).catch(() => undefined)));
    await Promise.all(Object.entries(extra).map(([name, text]) => writeFile(join(dir, name), text)));
    return dir;
  }

  /** `fcm lab down`; when the CLI fails, every process in lab.json is stopped by its PID. */
  async down(): Promise<void> {
    const run = await runFcm(this.env, ['lab', 'down', '--json']);
    if (run.status === 0) return;
    process.stderr.write(`failover: fcm lab down exited ${run.status}: ${run.err}; stopping the lab's processes by PID\n`);
    await stopLabProcesses(await loadLabState(this.dir));
  }
}

/** Children of `pid` (all its threads'), from /proc; empty when it is gone. */
export function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // Gone while we looked.
  }
  return pids;
}

/** The NUL-separated command line of `pid` ('' when it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}
