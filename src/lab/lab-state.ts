// Where a lab lives on disk and what it remembers (lab.json), how its ports
// are chosen, and which lab the CLI talks to when no --lab is given.
//
//   DIR/lab.json              this file's LabState, replaced atomically
//   DIR/admin_key(.pub)       the lab's admin key: every node's authorized_keys lists it (fcm --host ... --identity DIR/admin_key)
//   DIR/nodeK/                node K's agent state dir (--state-dir); agent.log and agent.sock inside
//   DIR/relay/relay.json      the relay's config (RelayConfig)
//   DIR/relay/control.sock    the relay's control socket
//   DIR/relay/relay.pid       the relay's {pid, startTime}, written when it is ready
//   DIR/relay/relay.log       the relay's stdout and stderr
//   DIR/watchdog/             with --fencing watchdog: the emulator's config (watchdog.json),
//                             pid file, status (status.json: state and resets per node), log,
//                             and each node's emulated device, a FIFO (nodeK.fifo)
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { LabError, errnoCode } from './lab-error.js';
import { processRecordProblems } from './processes.js';
import type { ProcessRecord } from './processes.js';
import { socketPathProblems } from './relay-config.js';
import type { RelayConfig } from './relay-config.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface LabNode {
  /** The lab's name for the node: relay routes, `fcm lab cut|heal|kill` use it. */
  id: string;
  /** The node's name in the cluster. */
  name: string;
  stateDir: string;
  logFile: string;
  /** The agent's API socket (--socket): how the CLI reaches this node. */
  socketPath: string;
  /** Where the agent's SSH server binds (127.0.1.K): only the relay dials it. */
  privateAddress: HostPort;
  /** The address registered in the cluster for this node: the relay's listener. */
  publicAddress: HostPort;
  /** The agent's --source-address for its outgoing connections (127.0.1.K). */
  sourceHost: string;
  /** The running agent, or null when it is not running (not started yet, killed). */
  process: ProcessRecord | null;
  /** With --fencing watchdog: the node's emulated watchdog, fed by its lease guard (`agent run --watchdog`). */
  watchdog?: { device: string; timeoutMs: number };
}

/** The watchdog emulator of a lab made with --fencing watchdog (watchdog-main.ts). */
export interface LabWatchdog {
  /** T_wd, ms: a node's armed watchdog resets it when not fed for this long. */
  timeoutMs: number;
  process: ProcessRecord | null;
  configFile: string;
  pidFile: string;
  statusFile: string;
  logFile: string;
}

export interface LabState {
  version: 1;
  dir: string;
  /** Wall-clock creation time (ISO 8601), for display only. */
  createdAt: string;
  nodes: LabNode[];
  relay: {
    process: ProcessRecord | null;
    controlSocket: string;
    configFile: string;
    pidFile: string;
    logFile: string;
  };
  /** Absent: fencing none. */
  watchdog?: LabWatchdog;
}

/** Most nodes a lab can have: node K uses 127.0.1.K, and .255 is the broadcast address. */
export const MAX_LAB_NODES = 254;

export function labLayout(dir: string) {
  const root = resolve(dir);
  const relayDir = join(root, 'relay');
  return {
    dir: root,
    stateFile: join(root, 'lab.json'),
    adminKey: join(root, 'admin_key'),
    relayDir,
    relayConfig: join(relayDir, 'relay.json'),
    relaySocket: join(relayDir, 'control.sock'),
    relayPidFile: join(relayDir, 'relay.pid'),
    relayLog: join(relayDir, 'relay.log'),
    nodeDir: (k: number) => join(root, `node${k}`),
    nodeLog: (k: number) => join(root, `node${k}`, 'agent.log'),
    nodeSocket: (k: number) => join(root, `node${k}`, 'agent.sock'),
    watchdogDir: join(root, 'watchdog'),
    watchdogConfig: join(root, 'watchdog', 'watchdog.json'),
    watchdogPidFile: join(root, 'watchdog', 'watchdog.pid'),
    watchdogStatus: join(root, 'watchdog', 'status.json'),
    watchdogLog: join(root, 'watchdog', 'watchdog.log'),
    watchdogDevice: (nodeName: string) => join(root, 'watchdog', `${nodeName}.fifo`),
  };
}

/**
 * Free TCP ports, one per host, from the OS (bind port 0). All are held until
 * every one is chosen, so no two are the same; then all are released. Another
 * process could take one before the agent binds it: callers that fail to bind
 * retry with fresh ports.
 */
export async function allocatePorts(hosts: readonly string[]): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (const host of hosts) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen(0, host, () => done());
      });
      ports.push((server.address() as { port: number }).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((done) => (s.listening ? s.close(() => done()) : done()))));
  }
}

/** The nodes of a new lab in `dir`, with free ports; nothing is started or written. */
export async function planNodes(dir: string, count: number): Promise<LabNode[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LAB_NODES) {
    throw new LabError('E_INVALID', 'lab size', [`nodes: expected 1-${MAX_LAB_NODES}, got ${count}`]);
  }
  const layout = labLayout(dir);
  const ks = Array.from({ length: count }, (_, i) => i + 1);
  const privateHosts = ks.map((k) => `127.0.1.${k}`);
  const ports = await allocatePorts([...privateHosts, ...ks.map(() => '127.0.0.1')]);
  return ks.map((k, i) => ({
    id: `n${k}`,
    name: `node${k}`,
    stateDir: layout.nodeDir(k),
    logFile: layout.nodeLog(k),
    socketPath: layout.nodeSocket(k),
    privateAddress: { host: privateHosts[i] as string, port: ports[i] as number },
    publicAddress: { host: '127.0.0.1', port: ports[count + i] as number },
    sourceHost: privateHosts[i] as string,
    process: null,
  }));
}

/** A fresh state for a lab in `dir` (checks the control socket path fits). */
export function newLabState(dir: string, nodes: LabNode[], createdAt: Date): LabState {
  const layout = labLayout(dir);
  const problems = [
    ...socketPathProblems(layout.relaySocket, 'relay control socket'),
    ...nodes.flatMap((n) => socketPathProblems(n.socketPath, `${n.name}'s agent socket`)),
  ];
  if (problems.length > 0) throw new LabError('E_INVALID', `lab directory ${layout.dir} is too deep`, problems);
  return {
    version: 1,
    dir: layout.dir,
    createdAt: createdAt.toISOString(),
    nodes,
    relay: { process: null, controlSocket: layout.relaySocket, configFile: layout.relayConfig, pidFile: layout.relayPidFile, logFile: layout.relayLog },
  };
}

export function relayConfigFor(state: LabState): RelayConfig {
  return {
    routes: state.nodes.map((n) => ({
      nodeId: n.id,
      publicHost: n.publicAddress.host,
      publicPort: n.publicAddress.port,
      targetHost: n.privateAddress.host,
      targetPort: n.privateAddress.port,
      sourceHost: n.sourceHost,
    })),
    controlSocket: state.relay.controlSocket,
    pidFile: state.relay.pidFile,
  };
}

export async function writeLabState(state: LabState): Promise<void> {
  await mkdir(state.dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(labLayout(state.dir).stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

function hostPortProblems(value: unknown, where: string): string[] {
  if (typeof value !== 'object' || value === null) return [`${where}: expected {host, port}`];
  const { host, port } = value as { host?: unknown; port?: unknown };
  const problems: string[] = [];
  if (typeof host !== 'string' || host === '') problems.push(`${where}.host: expected an address`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${where}.port: expected a port 1-65535`);
  return problems;
}

function stringProblems(obj: Record<string, unknown>, keys: readonly string[], where: string): string[] {
  return keys.filter((k) => typeof obj[k] !== 'string' || obj[k] === '').map((k) => `${where}.${k}: expected a non-empty string`);
}

/** Every problem with a parsed lab.json; empty if it is a LabState. */
export function labStateProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['expected a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.version !== 1) problems.push(`version: expected 1, got ${JSON.stringify(v.version)}`);
  problems.push(...stringProblems(v, ['dir', 'createdAt'], 'lab'));
  if (!Array.isArray(v.nodes)) problems.push('nodes: expected an array');
  else {
    v.nodes.forEach((node: unknown, i) => {
      const where = `nodes[${i}]`;
      if (typeof node !== 'object' || node === null) {
        problems.push(`${where}: expected an object`);
        return;
      }
      const n = node as Record<string, unknown>;
      problems.push(...stringProblems(n, ['id', 'name', 'stateDir', 'logFile', 'socketPath', 'sourceHost'], where));
      problems.push(...hostPortProblems(n.privateAddress, `${where}.privateAddress`));
      problems.push(...hostPortProblems(n.publicAddress, `${where}.publicAddress`));
      if (n.process !== null) problems.push(...processRecordProblems(n.process, `${where}.process`));
      if (n.watchdog !== undefined) problems.push(...watchdogProblems(n.watchdog, `${where}.watchdog`, ['device']));
    });
  }
  if (typeof v.relay !== 'object' || v.relay === null) problems.push('relay: expected an object');
  else {
    const r = v.relay as Record<string, unknown>;
    problems.push(...stringProblems(r, ['controlSocket', 'configFile', 'pidFile', 'logFile'], 'relay'));
    if (r.process !== null) problems.push(...processRecordProblems(r.process, 'relay.process'));
  }
  if (v.watchdog !== undefined) {
    problems.push(...watchdogProblems(v.watchdog, 'watchdog', ['configFile', 'pidFile', 'statusFile', 'logFile']));
    const w = v.watchdog as Record<string, unknown> | null;
    if (w !== null && typeof w === 'object' && w.process !== null) problems.push(...processRecordProblems(w.process, 'watchdog.process'));
  }
  return problems;
}

/** Problems of an object with a positive whole timeoutMs (ms) and the named non-empty strings. */
function watchdogProblems(value: unknown, where: string, strings: readonly string[]): string[] {
  if (typeof value !== 'object' || value === null) return [`${where}: expected an object`];
  const w = value as Record<string, unknown>;
  const problems = stringProblems(w, strings, where);
  if (typeof w.timeoutMs !== 'number' || !Number.isSafeInteger(w.timeoutMs) || w.timeoutMs <= 0) problems.push(`${where}.timeoutMs: expected a whole number of ms above 0`);
  return problems;
}

/** Load DIR/lab.json: E_NO_LAB if there is none, E_CORRUPT_STATE (every problem listed) if it is damaged. */
export async function loadLabState(dir: string): Promise<LabState> {
  const file = labLayout(dir).stateFile;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new LabError('E_NO_LAB', `no lab in ${resolve(dir)} (${file} does not exist)`);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LabError('E_CORRUPT_STATE', `${file} is damaged`, [`not JSON: ${(err as Error).message}`]);
  }
  const problems = labStateProblems(value);
  if (problems.length > 0) throw new LabError('E_CORRUPT_STATE', `${file} is damaged`, problems);
  return value as LabState;
}

type Env = Readonly<Record<string, string | undefined>>;

/** $XDG_STATE_HOME/fcm (an absolute XDG_STATE_HOME only, as the spec says), else ~/.local/state/fcm. */
function fcmStateHome(env: Env, home: string): string {
  const xdg = env.XDG_STATE_HOME;
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'fcm');
}

/** The file that names the current lab: one line, the lab directory. */
export function currentLabFile(env: Env = process.env, home = homedir()): string {
  return join(fcmStateHome(env, home), 'current-lab');
}

/** Where `fcm lab up` puts a lab when no --dir is given. */
export function defaultLabDir(env: Env = process.env, home = homedir()): string {
  return join(fcmStateHome(env, home), 'lab');
}

/** The lab to act on: --lab, else $FCM_LAB, else the current-lab record; E_NO_LAB if none. */
export async function resolveLabDir(explicit: string | undefined, env: Env = process.env, home = homedir()): Promise<string> {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const fromEnv = env.FCM_LAB;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const file = currentLabFile(env, home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new LabError('E_NO_LAB', `no lab is running (no --lab, no FCM_LAB, no ${file})`);
    throw err;
  }
  const dir = text.trim();
  if (!isAbsolute(dir)) throw new LabError('E_CORRUPT_STATE', `${file} is damaged`, ['expected one absolute directory path']);
  return dir;
}

export async function setCurrentLab(dir: string, env: Env = process.env, home = homedir()): Promise<void> {
  const file = currentLabFile(env, home);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${resolve(dir)}\n`);
}

/** Forget the current-lab record if it names `dir` (another lab may have become current since). */
export async function clearCurrentLab(dir: string, env: Env = process.env, home = homedir()): Promise<void> {
  const file = currentLabFile(env, home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (text.trim() !== resolve(dir)) return;
  await unlink(file).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
}
