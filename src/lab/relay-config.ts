// The relay's routes and config file, validated with every problem reported.
import { isIPv4 } from 'node:net';
import { LabError } from './lab-error.js';

/** One node as the relay sees it. */
export interface RelayRoute {
  /** The name cut/heal requests use for this node. */
  nodeId: string;
  /** The node's public address, registered in the cluster: peers and admins connect here. Port 0: the OS picks (tests). */
  publicHost: string;
  publicPort: number;
  /** Where the node's agent listens (its private address); the relay forwards there. */
  targetHost: string;
  targetPort: number;
  /** The address the node's own outgoing connections come from: how the relay recognises the node as a sender. */
  sourceHost: string;
}

/** The file `relay-main --config FILE` reads. */
export interface RelayConfig {
  routes: RelayRoute[];
  /** Unix socket for cut / heal / status (JSON lines). */
  controlSocket: string;
  /** Written (atomically, {pid, startTime}) once every listener is up: the sign that the relay is ready. */
  pidFile: string;
}

/** Longest path a Unix socket can bind on Linux (sun_path is 108 bytes, NUL included). */
export const MAX_SOCKET_PATH_BYTES = 107;

function isPort(value: unknown, allowZero: boolean): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= (allowZero ? 0 : 1) && value <= 65535;
}

export function routeProblems(routes: unknown): string[] {
  if (!Array.isArray(routes)) return ['routes: expected an array'];
  if (routes.length === 0) return ['routes: expected at least one route'];
  const problems: string[] = [];
  const seen = { nodeId: new Set<string>(), sourceHost: new Set<string>(), publicAddress: new Set<string>() };
  routes.forEach((route: unknown, i) => {
    const where = `routes[${i}]`;
    if (typeof route !== 'object' || route === null) {
      problems.push(`${where}: expected an object`);
      return;
    }
    const r = route as Record<string, unknown>;
    if (typeof r.nodeId !== 'string' || r.nodeId === '') problems.push(`${where}.nodeId: expected a non-empty string`);
    else if (seen.nodeId.has(r.nodeId)) problems.push(`${where}.nodeId: ${r.nodeId} appears twice`);
    else seen.nodeId.add(r.nodeId);
    for (const key of ['publicHost', 'targetHost', 'sourceHost'] as const) {
      if (typeof r[key] !== 'string' || !isIPv4(r[key])) problems.push(`${where}.${key}: expected an IPv4 address`);
    }
    if (!isPort(r.publicPort, true)) problems.push(`${where}.publicPort: expected a port 0-65535`);
    if (!isPort(r.targetPort, false)) problems.push(`${where}.targetPort: expected a port 1-65535`);
    // Two nodes with one source address could not be told apart, so a cut would hit both.
    if (typeof r.sourceHost === 'string') {
      if (seen.sourceHost.has(r.sourceHost)) problems.push(`${where}.sourceHost: ${r.sourceHost} is another node's source too`);
      seen.sourceHost.add(r.sourceHost);
    }
    if (typeof r.publicHost === 'string' && typeof r.publicPort === 'number' && r.publicPort !== 0) {
      const address = `${r.publicHost}:${r.publicPort}`;
      if (seen.publicAddress.has(address)) problems.push(`${where}: public address ${address} appears twice`);
      seen.publicAddress.add(address);
    }
  });
  return problems;
}

export function socketPathProblems(path: unknown, where: string): string[] {
  if (typeof path !== 'string' || path === '') return [`${where}: expected a path`];
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    return [`${where}: ${path} is ${Buffer.byteLength(path)} bytes, longer than a Unix socket path may be (${MAX_SOCKET_PATH_BYTES})`];
  }
  return [];
}

/** Check a parsed config file; throws E_INVALID listing every problem. */
export function parseRelayConfig(value: unknown): RelayConfig {
  if (typeof value !== 'object' || value === null) throw new LabError('E_INVALID', 'relay config', ['expected a JSON object']);
  const v = value as Record<string, unknown>;
  const problems = [
    ...routeProblems(v.routes),
    ...socketPathProblems(v.controlSocket, 'controlSocket'),
    ...(typeof v.pidFile === 'string' && v.pidFile !== '' ? [] : ['pidFile: expected a path']),
  ];
  if (problems.length > 0) throw new LabError('E_INVALID', 'relay config', problems);
  return { routes: v.routes as RelayRoute[], controlSocket: v.controlSocket as string, pidFile: v.pidFile as string };
}
