// `fcm lab up`: a real cluster of N agents on loopback. Ports are chosen,
// the relay (with --fencing watchdog also the watchdog emulator, before any
// agent: watchdog.ts) and the agents are started detached (recorded in
// lab.json as they start, so `fcm lab down` can always stop them), node1 creates the
// cluster and every other node joins it, one at a time. It returns once
// there is a leader and every node is Up; on failure it stops everything it
// started, removes what it made and reports the end of every log.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiCallError } from '../client/agent-client.js';
import type { AgentIdentity, ClusterStatus } from '../client/api.js';
import { joinNode, memberOf, waitForVoterUp } from '../client/join.js';
import type { Member } from '../client/join.js';
import { pollUntil } from '../client/poll.js';
import { UnixSocketClient } from '../client/unix-socket-client.js';
import { defaultLeaseTiming } from '../agent/core/lease-config.js';
import { watchdogTimeoutProblems } from '../agent/guard/watchdog.js';
import { logTail, startAgent, waitForAgent } from './lab-agent.js';
import { stopLabProcesses } from './lab-control.js';
import { LabError, errnoCode } from './lab-error.js';
import { labLayout, newLabState, planNodes, relayConfigFor, setCurrentLab, writeLabState } from './lab-state.js';
import type { LabNode, LabState } from './lab-state.js';
import { startRelayProcess } from './relay-process.js';
import { DEFAULT_LAB_WATCHDOG_TIMEOUT_MS, startWatchdogProcess } from './watchdog-process.js';

type Env = Readonly<Record<string, string | undefined>>;

export const LAB_CLUSTER_NAME = 'lab';

/** Start attempts when a port is taken between allocation and bind. */
const PORT_ATTEMPTS = 3;

export interface LabUpOptions {
  dir: string;
  nodes: number;
  /** Bound on the whole start, ms. */
  timeoutMs: number;
  /** 'watchdog': every node's guard feeds an emulated watchdog that resets the node when unfed (default 'none'). */
  fencing?: 'none' | 'watchdog';
  /** T_wd of the emulated watchdogs, ms (default DEFAULT_LAB_WATCHDOG_TIMEOUT_MS); only with fencing 'watchdog'. */
  watchdogTimeoutMs?: number;
  /** One line per step, for a spinner. */
  progress?: (step: string) => void;
  /** Chooses the nodes and their ports for each attempt (default planNodes); tests pass a plan whose port is taken. */
  plan?: (dir: string, count: number) => Promise<LabNode[]>;
  env?: Env;
  home?: string;
}

export interface LabUpResult {
  state: LabState;
  cluster: ClusterStatus;
}

export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  const dir = resolve(options.dir);
  const progress = options.progress ?? (() => {});
  const deadline = performance.now() + options.timeoutMs;
  const remaining = (): number => Math.max(1, Math.round(deadline - performance.now()));
  const watchdogTimeoutMs = fencingOptions(options);
  const createdDir = await claimDirectory(dir);
  // The state of the attempt in progress: what to stop if anything fails.
  const run: { state: LabState | undefined } = { state: undefined };
  try {
    const adminKey = await writeAdminKey(dir);
    let identities: AgentIdentity[] | undefined;
    for (let attempt = 1; identities === undefined; attempt++) {
      try {
        identities = await startProcesses(dir, await (options.plan ?? planNodes)(dir, options.nodes), watchdogTimeoutMs, adminKey, run, remaining, progress);
      } catch (err) {
        if (!addressInUse(err) || attempt >= PORT_ATTEMPTS) throw err;
        progress(`a port was taken meanwhile; starting again with other ports (attempt ${attempt + 1} of ${PORT_ATTEMPTS})`);
        await removeAttempt(run.state);
      }
    }
    const state = run.state as LabState;
    const cluster = await formCluster(state, identities, watchdogTimeoutMs !== null, remaining, progress);
    await setCurrentLab(dir, options.env ?? process.env, options.home ?? homedir());
    return { state, cluster };
  } catch (err) {
    const tails = run.state === undefined ? '' : await logTails(run.state);
    if (run.state !== undefined) await stopLabProcesses(run.state);
    // The directory was new or empty: everything in it is this call's.
    if (createdDir) await rm(dir, { recursive: true, force: true });
    else await Promise.all((await readdir(dir)).map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
    throw failure(err, tails);
  }
}

/**
 * T_wd of the lab's watchdogs (null: fencing none), or E_INVALID naming
 * every problem. The lab's cluster keeps the default lease timing, so T_wd
 * must fit it as the agents will check (guard/watchdog.ts).
 */
function fencingOptions(options: LabUpOptions): number | null {
  const problems: string[] = [];
  const watchdog = options.fencing === 'watchdog';
  if (options.watchdogTimeoutMs !== undefined && !watchdog) problems.push('--watchdog-timeout-ms needs --fencing watchdog');
  const timeoutMs = options.watchdogTimeoutMs ?? DEFAULT_LAB_WATCHDOG_TIMEOUT_MS;
  if (watchdog) problems.push(...watchdogTimeoutProblems(timeoutMs, defaultLeaseTiming));
  if (problems.length > 0) throw new LabError('E_INVALID', 'lab fencing', problems);
  return watchdog ? timeoutMs : null;
}

/** The lab directory must be new or empty: true if this call created it. */
async function claimDirectory(dir: string): Promise<boolean> {
  const existing = await stat(dir).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (existing === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return true;
  }
  const entries = await readdir(dir);
  if (entries.includes('lab.json')) throw new LabError('E_EXISTS', `there is a lab in ${dir} already`, ['take it down first with fcm lab down, or pick another --dir']);
  if (entries.length > 0) throw new LabError('E_EXISTS', `${dir} is not empty`, ['pick a new or empty directory with --dir']);
  return false;
}

/** Plans ports, starts the relay and every agent; resolves with each agent's identity once all answer. */
async function startProcesses(
  dir: string,
  nodes: LabNode[],
  watchdogTimeoutMs: number | null,
  adminKey: string,
  run: { state: LabState | undefined },
  remaining: () => number,
  progress: (step: string) => void,
): Promise<AgentIdentity[]> {
  const state = newLabState(dir, nodes, new Date());
  run.state = state;
  await writeLabState(state);
  const layout = labLayout(dir);
  await mkdir(layout.relayDir, { recursive: true, mode: 0o700 });
  progress('starting the relay');
  state.relay.process = await startRelayProcess(relayConfigFor(state), { configFile: layout.relayConfig, logFile: layout.relayLog }, remaining());
  await writeLabState(state);
  if (watchdogTimeoutMs !== null) {
    // Before any agent: a guard cannot open its device while no emulator reads it.
    state.watchdog = {
      timeoutMs: watchdogTimeoutMs, process: null,
      configFile: layout.watchdogConfig, pidFile: layout.watchdogPidFile, statusFile: layout.watchdogStatus, logFile: layout.watchdogLog,
    };
    for (const node of state.nodes) node.watchdog = { device: layout.watchdogDevice(node.name), timeoutMs: watchdogTimeoutMs };
    await mkdir(layout.watchdogDir, { recursive: true, mode: 0o700 });
    progress(`starting the watchdog emulator (T_wd ${watchdogTimeoutMs} ms)`);
    state.watchdog.process = await startWatchdogProcess(state, remaining());
    await writeLabState(state);
  }
  progress(`starting ${nodes.length} agents`);
  for (const node of state.nodes) {
    await mkdir(node.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(join(node.stateDir, 'authorized_keys'), `${adminKey}\n`, { mode: 0o600 });
    node.process = await startAgent(node);
    await writeLabState(state);
  }
  return Promise.all(state.nodes.map((node) => waitForAgent(node, node.process as NonNullable<typeof node.process>, remaining())));
}

/**
 * Creates the cluster on the first node and adds the others one by one; on
 * a lab whose guards feed watchdogs, the cluster's `fencing` property says
 * so (it is what lets disk resources mount filesystems without --force).
 */
async function formCluster(state: LabState, identities: AgentIdentity[], watchdogs: boolean, remaining: () => number, progress: (step: string) => void): Promise<ClusterStatus> {
  const clients = await Promise.all(state.nodes.map((n) => UnixSocketClient.connect(n.socketPath, { callTimeoutMs: remaining() })));
  try {
    const [first, ...others] = clients;
    const [firstIdentity] = identities;
    if (first === undefined || firstIdentity === undefined) throw new LabError('E_INVALID', 'a lab needs at least one node');
    progress(`creating cluster ${LAB_CLUSTER_NAME} on ${firstIdentity.name}`);
    let status = await first.call('cluster.create', { name: LAB_CLUSTER_NAME });
    if (watchdogs) {
      progress('setting fencing = watchdog');
      await first.call('config.set', { values: { fencing: 'watchdog' } });
    }
    const members: Member[] = [memberOf(firstIdentity)];
    for (const [i, newcomer] of others.entries()) {
      const name = state.nodes[i + 1]?.name ?? '';
      progress(`adding ${name}`);
      const { identity } = await joinNode(first, newcomer, status, async () => members);
      members.push(memberOf(identity));
      // Membership changes one voter at a time: the next waits for this one to count.
      await waitForVoterUp(first, identity.nodeId, name, remaining());
      status = await first.call('cluster.status', {});
    }
    progress('waiting for a leader and every node Up');
    return await pollUntil('a leader and every node Up', async () => {
      const s = await first.call('cluster.status', {});
      return s.leader !== null && s.nodes.length === state.nodes.length && s.nodes.every((n) => n.state === 'Up') ? s : undefined;
    }, { timeoutMs: remaining() });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/**
 * The lab's admin key (OpenSSH files DIR/admin_key and .pub), so that the
 * lab can be reached over SSH as a real cluster is. Returns the public line.
 */
async function writeAdminKey(dir: string): Promise<string> {
  // ssh2 costs ~33 ms to import: only lab up needs it.
  const { generateNodeKeyPair } = await import('../agent/transport/keys.js');
  const pair = await generateNodeKeyPair('fcm-lab-admin');
  const file = labLayout(dir).adminKey;
  await writeFile(file, pair.privateKey, { mode: 0o600 });
  await writeFile(`${file}.pub`, `${pair.publicKey}\n`, { mode: 0o644 });
  return pair.publicKey;
}

function addressInUse(err: unknown): boolean {
  return err instanceof LabError && (err.code === 'E_ADDRESS_IN_USE' || (err.code === 'E_SPAWN' && /EADDRINUSE/.test(err.message)));
}

/** Stops what an attempt started and removes its files, leaving the lab directory empty. */
async function removeAttempt(state: LabState | undefined): Promise<void> {
  if (state === undefined) return;
  await stopLabProcesses(state);
  const layout = labLayout(state.dir);
  await Promise.all([layout.stateFile, layout.relayDir, layout.watchdogDir, ...state.nodes.map((n) => n.stateDir)].map((path) => rm(path, { recursive: true, force: true })));
}

async function logTails(state: LabState): Promise<string> {
  const logs = [...state.nodes.map((n) => [`${n.name} (${n.logFile})`, n.logFile] as const), [`relay (${state.relay.logFile})`, state.relay.logFile] as const];
  if (state.watchdog !== undefined) logs.push([`watchdog (${state.watchdog.logFile})`, state.watchdog.logFile] as const);
  const parts = await Promise.all(logs.map(async ([label, file]) => {
    const tail = await logTail(file);
    return tail === '' ? '' : `\n--- ${label} ends with:\n${tail}`;
  }));
  return parts.join('');
}

/** The original error, its code kept (so exit codes keep their meaning), with the logs appended. */
function failure(err: unknown, tails: string): Error {
  const message = `lab up failed: ${err instanceof Error ? err.message : String(err)}${tails}`;
  if (err instanceof LabError) return new LabError(err.code, message);
  if (err instanceof ApiCallError) return new ApiCallError(err.code, message, err.hint, err.reports);
  return new Error(message, { cause: err });
}
