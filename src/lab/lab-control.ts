// What `fcm lab` does to a lab that exists: find it and its nodes, kill and
// restart a node's agent, cut and heal its links, and take the whole lab
// down. Every process is signalled by its recorded PID after checking it is
// still the same process (processes.ts).
import { rm, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { AgentIdentity } from '../client/api.js';
import { startAgent, waitForAgent } from './lab-agent.js';
import { LabError, errnoCode } from './lab-error.js';
import { clearCurrentLab, labLayout, loadLabState, relayConfigFor, resolveLabDir, writeLabState } from './lab-state.js';
import type { LabNode, LabState } from './lab-state.js';
import { guardSocketPath, guardStateDir } from '../agent/guard/guard-protocol.js';
import { isSameProcess, processIdentity, waitUntilGone } from '../os/process-identity.js';
import { signal, stopProcess } from './processes.js';
import type { ProcessRecord, StopOutcome } from './processes.js';
import { controlRelay } from './relay-control.js';
import { startRelayProcess } from './relay-process.js';
import { startWatchdogProcess } from './watchdog-process.js';
import type { CutMode, RelayNodeStatus } from './relay.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The lab named by --lab, $FCM_LAB or the current-lab record. */
export async function openLab(explicit: string | undefined, env: Env = process.env, home = homedir()): Promise<LabState> {
  const dir = await resolveLabDir(explicit, env, home);
  const state = await loadLabState(dir);
  // `lab down` removes state.dir: it must be the directory the state was found in.
  if (resolve(state.dir) !== resolve(dir)) {
    throw new LabError('E_CORRUPT_STATE', `${resolve(dir)}/lab.json is damaged`, [`it names another directory: ${state.dir}`]);
  }
  return state;
}

/** A node by its lab id (n2) or cluster name (node2); E_NOT_FOUND names the nodes there are. */
export function findLabNode(state: LabState, wanted: string): LabNode {
  const node = state.nodes.find((n) => n.id === wanted || n.name === wanted);
  if (node === undefined) {
    throw new LabError('E_NOT_FOUND', `the lab in ${state.dir} has no node ${wanted}`, [`its nodes: ${state.nodes.map((n) => n.name).join(', ')}`]);
  }
  return node;
}

export const isRunning = (record: ProcessRecord | null): record is ProcessRecord => record !== null && isSameProcess(record);

export interface StopReport {
  /** A node's name, or `relay`. */
  name: string;
  pid: number | null;
  outcome: StopOutcome | 'not-running';
}

/** How long an agent or the relay gets to exit on SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 3000;

/**
 * Stops every agent and the relay, all at once, then leftover guards, then
 * the watchdog emulator: last, so that every guard has disarmed its device
 * and nobody is reset. Records them as not running (the caller writes the state).
 */
export async function stopLabProcesses(state: LabState): Promise<StopReport[]> {
  const stop = async (name: string, record: ProcessRecord | null): Promise<StopReport> => ({
    name,
    pid: record?.pid ?? null,
    outcome: record === null ? 'not-running' : await stopProcess(record, { graceMs: STOP_GRACE_MS }),
  });
  const reports = await Promise.all([...state.nodes.map((n) => stop(n.name, n.process)), stop('relay', state.relay.process)]);
  const guards = await Promise.all(state.nodes.map(async (n) => stopLeftoverGuard(n)));
  reports.push(...guards.filter((r): r is StopReport => r !== null));
  if (state.watchdog !== undefined) {
    reports.push(await stop('watchdog', state.watchdog.process));
    state.watchdog.process = null;
  }
  for (const node of state.nodes) node.process = null;
  state.relay.process = null;
  return reports;
}

/**
 * A SIGKILLed agent's lease guard outlives it, waiting for the agent's next
 * life to take it over (in production systemd's control-group kill ends it).
 * The lab ends it here: the guard tells its pid over its socket, and is
 * stopped by that pid (SIGTERM: it kills its groups, then exits).
 */
async function stopLeftoverGuard(node: LabNode): Promise<StopReport | null> {
  const { GuardClient } = await import('../agent/guard/guard-client.js');
  let pid: number;
  try {
    const client = await GuardClient.connect(guardSocketPath(guardStateDir(node.stateDir)));
    try {
      pid = (await client.status()).pid;
    } finally {
      client.close();
    }
  } catch {
    return null; // no guard answers: nothing left
  }
  const record = processIdentity(pid);
  if (record === undefined) return null;
  return { name: `${node.name} guard`, pid, outcome: await stopProcess(record, { graceMs: STOP_GRACE_MS }) };
}

export interface LabDownReport {
  dir: string;
  stopped: StopReport[];
  /** False with --keep: the state dirs and logs are still there. */
  removed: boolean;
}

export async function labDown(state: LabState, keep: boolean, env: Env = process.env, home = homedir()): Promise<LabDownReport> {
  const stopped = await stopLabProcesses(state);
  if (keep) await writeLabState(state);
  else await rm(state.dir, { recursive: true, force: true });
  await clearCurrentLab(state.dir, env, home);
  return { dir: state.dir, stopped, removed: !keep };
}

/** SIGKILL, as a crash: the agent gets no chance to clean up. */
export async function killNode(state: LabState, node: LabNode): Promise<{ node: string; pid: number | null; killed: boolean }> {
  const record = node.process;
  if (!isRunning(record)) {
    node.process = null;
    await writeLabState(state);
    return { node: node.name, pid: null, killed: false };
  }
  if (signal(record, 'SIGKILL') === 'sent' && !(await waitUntilGone(record, 5000))) {
    throw new LabError('E_TIMEOUT', `${node.name}'s agent (pid ${record.pid}) is still there 5000 ms after SIGKILL`);
  }
  node.process = null;
  await writeLabState(state);
  return { node: node.name, pid: record.pid, killed: true };
}

/** Starts the relay again if it is not running (a lab kept with `lab down --keep`); true if it was started. */
export async function ensureRelay(state: LabState): Promise<boolean> {
  if (isRunning(state.relay.process)) return false;
  const layout = labLayout(state.dir);
  state.relay.process = await startRelayProcess(relayConfigFor(state), { configFile: layout.relayConfig, logFile: layout.relayLog });
  await writeLabState(state);
  return true;
}

/** Starts the watchdog emulator of a lab with --fencing watchdog again if it is not running; true if it was started. */
export async function ensureWatchdog(state: LabState): Promise<boolean> {
  if (state.watchdog === undefined || isRunning(state.watchdog.process)) return false;
  state.watchdog.process = await startWatchdogProcess(state);
  await writeLabState(state);
  return true;
}

/** Starts a node's agent again with its state dir, as after a crash (or a watchdog reset); waits until it answers. */
export async function startNode(state: LabState, node: LabNode, timeoutMs: number): Promise<{ node: string; pid: number; started: boolean; identity: AgentIdentity }> {
  if (isRunning(node.process)) {
    return { node: node.name, pid: node.process.pid, started: false, identity: await waitForAgent(node, node.process, timeoutMs) };
  }
  // The socket file of a killed agent is left behind; nothing listens on it.
  await unlink(node.socketPath).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  const record = await startAgent(node);
  node.process = record;
  await writeLabState(state);
  return { node: node.name, pid: record.pid, started: true, identity: await waitForAgent(node, record, timeoutMs) };
}

function relayRunning(state: LabState): void {
  if (!isRunning(state.relay.process)) {
    throw new LabError('E_UNAVAILABLE', `the lab's relay is not running (see ${state.relay.logFile})`, ['take the lab down and up again: fcm lab down; fcm lab up']);
  }
}

/** Cut `node` off from every other node, or with `peer` only the links between the two. */
export async function cutNode(state: LabState, node: LabNode, mode: CutMode, peer?: LabNode): Promise<RelayNodeStatus> {
  relayRunning(state);
  const [status] = await controlRelay(state.relay.controlSocket, { op: 'cut', node: node.id, mode, peer: peer?.id });
  if (status === undefined) throw new LabError('E_UNAVAILABLE', 'the relay answered a cut without the node\'s status');
  return status;
}

/** With `peer`, lift that pair cut only; without, the node's whole cut and every pair cut involving it. */
export async function healNode(state: LabState, node: LabNode, peer?: LabNode): Promise<RelayNodeStatus> {
  relayRunning(state);
  const [status] = await controlRelay(state.relay.controlSocket, { op: 'heal', node: node.id, peer: peer?.id });
  if (status === undefined) throw new LabError('E_UNAVAILABLE', 'the relay answered a heal without the node\'s status');
  return status;
}

/** The relay's view of every node's links, or null when the relay is not running. */
export async function relayStatus(state: LabState): Promise<RelayNodeStatus[] | null> {
  if (!isRunning(state.relay.process)) return null;
  return controlRelay(state.relay.controlSocket, { op: 'status' });
}
