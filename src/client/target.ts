// Which agent a command talks to, decided in one place:
//   --host [user@]HOST[:PORT]         that node, over SSH
//   --lab DIR / $FCM_LAB / current lab   that lab's nodes' sockets (--via NODE picks one, else the first that answers)
//   otherwise                          the local agent's socket ($FCM_SOCKET, else /run/fcm/agent.sock)
import { resolve as resolvePath } from 'node:path';
import { ApiCallError } from './agent-client.js';
import type { AgentClient } from './agent-client.js';
import { knownHostsFile } from './known-hosts.js';
import { SshApiClient } from './ssh-api-client.js';
import { UnixSocketClient } from './unix-socket-client.js';

/** The agent's SSH port when HOST has none. */
export const DEFAULT_AGENT_SSH_PORT = 7422;

/** Where a node's agent listens for the CLI. */
export const DEFAULT_AGENT_SOCKET = '/run/fcm/agent.sock';

export interface SshTarget {
  kind: 'ssh';
  host: string;
  port: number;
  user: string | undefined;
}

export interface LabNodeTarget {
  /** The lab's id (n1) and the cluster name (node1): --via accepts either. */
  id: string;
  name: string;
  socket: string;
  /** The node's public `host:port`, as registered in the cluster. */
  address: string;
}

export type Target =
  | SshTarget
  | { kind: 'lab'; dir: string; nodes: LabNodeTarget[]; via: string | undefined }
  | { kind: 'socket'; path: string };

type Env = Readonly<Record<string, string | undefined>>;

/** `[user@]host[:port]`, host being a name, an IPv4 address or a bracketed IPv6 address. */
export function parseSshTarget(text: string): SshTarget {
  const match = /^(?:([^@\s:]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? DEFAULT_AGENT_SSH_PORT : Number(match[3]);
  if (match === null || match[2] === undefined || port < 1 || port > 65535) {
    throw new ApiCallError('E_USAGE', `'${text}' is not an SSH target`, `write [user@]host[:port], e.g. admin@10.0.0.11:${DEFAULT_AGENT_SSH_PORT}`);
  }
  const host = match[2].startsWith('[') ? match[2].slice(1, -1) : match[2];
  return { kind: 'ssh', host, port, user: match[1] };
}

export interface TargetChoice {
  host: string | undefined;
  /** --lab (commander already fills it from $FCM_LAB). */
  lab: string | undefined;
  via: string | undefined;
}

/**
 * What the lab layer tells about a lab: its directory and nodes, or
 * undefined when no lab is named anywhere (no --lab, no FCM_LAB, no current
 * lab). A named lab that cannot be loaded throws.
 */
export type LabLookup = (explicitDir: string | undefined) => Promise<{ dir: string; nodes: LabNodeTarget[] } | undefined>;

export async function resolveTarget(choice: TargetChoice, findLab: LabLookup, env: Env = process.env): Promise<Target> {
  if (choice.host !== undefined) {
    if (choice.via !== undefined) throw new ApiCallError('E_USAGE', '--via picks a lab node; it cannot be combined with --host', 'give the node itself with --host');
    return parseSshTarget(choice.host);
  }
  const lab = await findLab(choice.lab);
  if (lab !== undefined) {
    if (choice.via !== undefined && !lab.nodes.some((n) => n.id === choice.via || n.name === choice.via)) {
      throw new ApiCallError('E_NOT_FOUND', `the lab in ${lab.dir} has no node ${choice.via}`, `its nodes: ${lab.nodes.map((n) => n.name).join(', ')}`);
    }
    return { kind: 'lab', dir: lab.dir, nodes: lab.nodes, via: choice.via };
  }
  if (choice.via !== undefined) throw new ApiCallError('E_USAGE', '--via picks a lab node, and no lab is running', 'start one with fcm lab up, or name it with --lab');
  const fromEnv = env.FCM_SOCKET;
  return { kind: 'socket', path: fromEnv !== undefined && fromEnv !== '' ? resolvePath(fromEnv) : DEFAULT_AGENT_SOCKET };
}

/**
 * Another node, named by its address (`fcm node add HOST[:PORT]`, a member's
 * registered address): a lab node's socket when the lab in use has a node
 * there, else SSH. With --host everything goes over SSH.
 */
export async function resolveAddressTarget(address: string, choice: TargetChoice, findLab: LabLookup): Promise<Target> {
  if (choice.host === undefined) {
    const lab = await findLab(choice.lab);
    const node = lab?.nodes.find((n) => n.address === address || n.name === address || n.id === address);
    if (lab !== undefined && node !== undefined) return { kind: 'lab', dir: lab.dir, nodes: lab.nodes, via: node.id };
  }
  return parseSshTarget(address);
}

export interface ConnectOptions {
  /** Longest wait for one answer, ms. */
  callTimeoutMs: number;
  identityFile: string | undefined;
  warn(message: string): void;
  env?: Env;
  home?: string;
}

/** How long connecting may take, ms: a local socket answers at once or never. */
const SOCKET_CONNECT_TIMEOUT_MS = 2000;
const SSH_CONNECT_TIMEOUT_MS = 10_000;

export async function connectTarget(target: Target, options: ConnectOptions): Promise<AgentClient> {
  switch (target.kind) {
    case 'ssh':
      return SshApiClient.connect({
        host: target.host,
        port: target.port,
        ...(target.user === undefined ? {} : { username: target.user }),
        ...(options.identityFile === undefined ? {} : { identityFile: options.identityFile }),
        knownHostsFile: knownHostsFile(options.env, options.home),
        callTimeoutMs: options.callTimeoutMs,
        connectTimeoutMs: Math.min(options.callTimeoutMs, SSH_CONNECT_TIMEOUT_MS),
        warn: options.warn,
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.home === undefined ? {} : { home: options.home }),
      });
    case 'socket':
      return UnixSocketClient.connect(target.path, { callTimeoutMs: options.callTimeoutMs, connectTimeoutMs: SOCKET_CONNECT_TIMEOUT_MS });
    case 'lab':
      return connectLab(target, options.callTimeoutMs);
  }
}

/** The --via node, or the first lab node whose agent answers. */
async function connectLab(target: Extract<Target, { kind: 'lab' }>, callTimeoutMs: number): Promise<AgentClient> {
  const hint = 'see which lab nodes run with fcm lab status; fcm lab start NODE restarts one';
  const candidates = target.via === undefined ? target.nodes : target.nodes.filter((n) => n.id === target.via || n.name === target.via);
  const failures: string[] = [];
  for (const node of candidates) {
    try {
      return await UnixSocketClient.connect(node.socket, { callTimeoutMs, connectTimeoutMs: SOCKET_CONNECT_TIMEOUT_MS, unavailableHint: hint });
    } catch (err) {
      if (!(err instanceof ApiCallError) || (err.code !== 'E_UNAVAILABLE' && err.code !== 'E_TIMEOUT')) throw err;
      failures.push(`${node.name}: ${err.message}`);
    }
  }
  const which = target.via === undefined ? 'no node of the lab' : `lab node ${target.via}`;
  throw new ApiCallError('E_UNAVAILABLE', `${which} in ${target.dir} answers (${failures.join('; ')})`, hint);
}
