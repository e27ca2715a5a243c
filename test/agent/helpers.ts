// Agents as real processes for the tests: `node <dist>/src/cli/main.js agent
// run ...` on loopback with port 0, logs to a file in the state directory,
// and a raw JSON-lines client for the API socket. Every process is stopped
// by PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentIdentity, ApiErrorBody, NodeView } from '../../src/client/api.js';

/** The CLI of the same build as this test file (dist-NAME/test/agent → dist-NAME/src/cli/main.js). */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * A temp directory; `remove` first stops, by PID, every process whose command
 * line names it: an agent's lease guard outlives a SIGKILLed agent (it kills
 * the agent's groups and waits for the agent to come back).
 */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    remove: async () => {
      await stopProcessesUnder(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** PIDs of processes whose command line names `dir` or a path inside it (agents kept there, and their guards). */
export async function processesUnder(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    // The directory itself as an argument (arguments end in NUL), or a path inside it.
    if (cmdline.includes(`${dir}\0`) || cmdline.includes(`${dir}/`)) out.push(Number(entry));
  }
  return out;
}

/** SIGTERM (a guard then kills its groups and removes its cgroups), and SIGKILL what is left after 5 s. */
async function stopProcessesUnder(dir: string): Promise<void> {
  const signal = (pids: number[], sig: NodeJS.Signals): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // It exited meanwhile.
      }
    }
  };
  signal(await processesUnder(dir), 'SIGTERM');
  const gone = await waitUntil('processes to exit', async () => (await processesUnder(dir)).length === 0, 5000).catch(() => false);
  if (gone !== true) signal(await processesUnder(dir), 'SIGKILL');
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type Answer = { id: number | null; result?: unknown; error?: ApiErrorBody };

/** One JSON-lines connection to an agent's API socket; `send` writes raw text. */
export class ApiConnection {
  private buffer = '';
  private readonly answers: Answer[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0) {
        this.answers.push(JSON.parse(this.buffer.slice(0, nl)) as Answer);
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf('\n');
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<ApiConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => resolve(new ApiConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Ends our side (the agent answers what it has, then closes). */
  end(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Calls a method; resolves with the whole answer (result or error). */
  async call(method: string, params: unknown = {}, timeoutMs = 20_000): Promise<Answer> {
    const id = this.nextId++;
    this.send(`${JSON.stringify({ id, method, params })}\n`);
    return this.next((a) => a.id === id, timeoutMs);
  }

  /** The first answer (already received or coming) that matches. */
  async next(match: (a: Answer) => boolean = () => true, timeoutMs = 10_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.answers.findIndex(match);
      if (i >= 0) return this.answers.splice(i, 1)[0] as Answer;
      if (this.closed) throw new Error('connection closed before the answer');
      if (Date.now() > deadline) throw new Error('no answer in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Resolves once the agent closed the connection. */
  async untilClosed(timeoutMs = 5_000): Promise<void> {
    await waitUntil('the agent to close the connection', () => this.closed, timeoutMs);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Calls one method on a fresh connection; throws on an error answer. */
export async function call<T = unknown>(socketPath: string, method: string, params: unknown = {}, timeoutMs = 20_000): Promise<T> {
  const conn = await ApiConnection.open(socketPath);
  try {
    const answer = await conn.call(method, params, timeoutMs);
    if (answer.error) throw Object.assign(new Error(`${method}: ${answer.error.code}: ${answer.error.message}`), { code: answer.error.code });
    return answer.result as T;
  } finally {
    conn.close();
  }
}

/** The error code of a call that must fail. */
export async function callError(socketPath: string, method: string, params: unknown = {}): Promise<ApiErrorBody> {
  const conn = await ApiConnection.open(socketPath);
  try {
    const answer = await conn.call(method, params);
    if (!answer.error) throw new Error(`${method} succeeded, expected an error: ${JSON.stringify(answer.result)}`);
    return answer.error;
  } finally {
    conn.close();
  }
}

export interface AgentProcess {
  name: string;
  /** host:port it listens on (and advertises). */
  address: string;
  stateDir: string;
  socket: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `fcm agent run` and waits until its socket answers; the agent's log
 * goes to <stateDir>.log. `listen` defaults to a free port on 127.0.0.1; a
 * restart must pass the address it had, which the cluster has registered.
 */
export async function startAgent(stateDir: string, name: string, extraArgs: string[] = [], listen = '127.0.0.1:0'): Promise<AgentProcess> {
  const socket = join(stateDir, 'agent.sock');
  const logFile = `${stateDir}.log`;
  const log = await open(logFile, 'a');
  const child = spawn(process.execPath, [
    CLI_MAIN, 'agent', 'run', '--state-dir', stateDir, '--listen', listen, '--name', name, '--log-format', 'json', ...extraArgs,
  ], { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => { gone = true; });
  const identity = await waitUntil(`${name} to answer on its socket`, async () => {
    if (gone) throw new Error(`${name} exited during start:\n${await readFile(logFile, 'utf8')}`);
    try {
      return await call<AgentIdentity>(socket, 'agent.identity', {}, 2000);
    } catch {
      return undefined;
    }
  });
  return { name, address: identity.address, stateDir, socket, logFile, child, exited };
}

/** Starts a stopped agent again on its state directory and address. */
export function restartAgent(agent: AgentProcess): Promise<AgentProcess> {
  return startAgent(agent.stateDir, agent.name, [], agent.address);
}

/** Sends `signal` by PID and waits for the exit. */
export async function stopAgent(agent: AgentProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) return agent.exited;
  if (agent.child.pid !== undefined) process.kill(agent.child.pid, signal);
  const timer = setTimeout(() => {
    if (agent.child.pid !== undefined && agent.child.exitCode === null) process.kill(agent.child.pid, 'SIGKILL');
  }, timeoutMs);
  try {
    return await agent.exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function logLines(agent: AgentProcess): Promise<{ level: string; msg: string; fields: Record<string, unknown> }[]> {
  const text = await readFile(agent.logFile, 'utf8');
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string; fields: Record<string, unknown> });
}

/** What `node.add` needs: the newcomer's identity, after telling it to join with the given members. */
export async function addToCluster(leader: AgentProcess, newcomer: AgentProcess, members: AgentProcess[]): Promise<void> {
  const status = await call<{ cluster: { id: string; name: string } }>(leader.socket, 'cluster.status');
  const identities = await Promise.all(members.map((m) => call<AgentIdentity>(m.socket, 'agent.identity')));
  await call(newcomer.socket, 'cluster.join', {
    clusterId: status.cluster.id,
    clusterName: status.cluster.name,
    members: identities.map(({ nodeId, name, publicKey, address, incarnation }) => ({ nodeId, name, publicKey, address, incarnation })),
  });
  const identity = await call<AgentIdentity>(newcomer.socket, 'agent.identity');
  await call(leader.socket, 'node.add', { identity }, 60_000);
}

/** Resolves once `agent`'s view lists exactly `count` nodes, every one an Up voter. */
export function untilUpVoters(agent: AgentProcess, count: number, timeoutMs?: number): Promise<NodeView[]> {
  return waitUntil(`${count} Up voters`, async () => {
    const nodes = await call<NodeView[]>(agent.socket, 'node.list');
    return nodes.length === count && nodes.every((n) => n.state === 'Up' && n.role === 'voter') ? nodes : undefined;
  }, timeoutMs);
}

/**
 * Agents n1, n2 and n3 in `dir`, pushed onto `agents` as they start (the
 * caller stops them, even after a failure here): n1 creates cluster `name`,
 * n2 and n3 join it; resolves once all three are Up voters.
 */
export async function startThreeNodeCluster(dir: string, name: string, agents: AgentProcess[]): Promise<[AgentProcess, AgentProcess, AgentProcess]> {
  for (const node of ['n1', 'n2', 'n3']) agents.push(await startAgent(join(dir, node), node));
  const [n1, n2, n3] = agents as [AgentProcess, AgentProcess, AgentProcess];
  await call(n1.socket, 'cluster.create', { name });
  await addToCluster(n1, n2, [n1]);
  await addToCluster(n1, n3, [n1, n2]);
  await untilUpVoters(n1, 3);
  return [n1, n2, n3];
}
