// The lab's relay: one process that stands on every node's public address
// and forwards each connection to that node's private address. Because every
// node's own connections come from a source address of its own, the relay
// knows who talks to whom, and can cut a node off from all its peers, or
// only the links between two nodes, both ways, without the agents' help.
//
// Policy. A connection from node J to node K passes unless J or K is cut as
// a whole, or the pair J-K is cut. When several cuts block a link, a reset
// one wins over a silent one.
// A connection from any other source (the CLI on 127.0.0.1) is admin traffic
// and always passes, so an administrator can still inspect a cut node.
// Consequence: an agent that dials without its source address looks like an
// admin and is never cut; `status` counts admin connections so a lab can spot
// that.
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { LabError } from './lab-error.js';
import { routeProblems } from './relay-config.js';
import type { RelayRoute } from './relay-config.js';
import { serveControl } from './relay-control.js';

/**
 * - `reset`: existing node-to-node connections get a TCP reset at once; new
 *   ones are accepted and reset. Peers notice immediately.
 * - `silent`: nothing is closed, but no byte crosses: existing connections
 *   stop forwarding, new ones are accepted and held unconnected. Peers notice
 *   only by their own timeouts, as with packets dropped on a real network.
 *   On heal the held bytes are delivered and held connections go through, as
 *   TCP retransmission would after a short partition.
 */
export type CutMode = 'reset' | 'silent';

export interface RelayNodeStatus {
  node: string;
  /** The whole-node cut: from every peer. */
  cut: CutMode | null;
  /** The peers this node is cut from by pair cuts, sorted (a whole-node cut does not list them). */
  cutFrom: string[];
  publicAddress: string;
  targetAddress: string;
  sourceHost: string;
  /** Connections to this node now: from peers, from admins, and how many of them are held by a silent cut. */
  active: { peer: number; admin: number; held: number };
  totals: {
    accepted: number;
    /** New peer connections reset because an end or the pair was cut. */
    refused: number;
    /** Existing connections (to or from this node) reset by a cut of this node, or of a pair named by this node. */
    cutReset: number;
    /** Connections the target refused or broke off (agent down). */
    targetFailed: number;
    bytesToTarget: number;
    bytesFromTarget: number;
  };
}

export interface RelayOptions {
  routes: RelayRoute[];
  /** If given, serve cut / heal / status as JSON lines on this Unix socket. */
  controlSocket?: string;
  /** One line per notable event (cut, heal, target failures), for the relay's log. */
  log?: (line: string) => void;
}

export interface Relay {
  /** Cut `node` off from every peer, or with `peer` only the links between the two. */
  cut(node: string, mode?: CutMode, peer?: string): RelayNodeStatus;
  /** With `peer`, lift that pair cut only; without, the node's whole cut and every pair cut involving it. */
  heal(node: string, peer?: string): RelayNodeStatus;
  status(): RelayNodeStatus[];
  /** The bound public address of a node (resolves port 0). */
  publicAddress(node: string): { host: string; port: number };
  /** Stop listening and reset every connection. */
  close(): Promise<void>;
}

interface Endpoint {
  route: RelayRoute;
  server: Server;
  cut: CutMode | null;
  /** Pair cuts, kept on both ends: the peer and how the links to it are cut. */
  cutFrom: Map<Endpoint, CutMode>;
  totals: RelayNodeStatus['totals'];
}

/** One forwarded connection. `from` is the sending node, or null for admin traffic. */
class Link {
  upstream: Socket | undefined;
  held = false;
  private closed = 0;

  constructor(
    readonly client: Socket,
    readonly from: Endpoint | null,
    readonly to: Endpoint,
    private readonly onDone: (link: Link) => void,
  ) {
    client.setNoDelay(true);
    client.on('error', () => this.abort());
    client.on('close', () => this.sideClosed());
  }

  connect(): void {
    const upstream = connect({
      host: this.to.route.targetHost,
      port: this.to.route.targetPort,
      // Peer traffic keeps its node's source address, so the agent's logs name the real peer.
      localAddress: this.from?.route.sourceHost,
      allowHalfOpen: true,
    });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => {
      this.to.totals.targetFailed++;
      this.abort();
    });
    upstream.on('close', () => this.sideClosed());
    this.pump(this.client, upstream, (n) => (this.to.totals.bytesToTarget += n));
    this.pump(upstream, this.client, (n) => (this.to.totals.bytesFromTarget += n));
  }

  /** Copy src to dst with the streams' own back-pressure; half-closes pass through. */
  private pump(src: Socket, dst: Socket, count: (bytes: number) => void): void {
    src.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (!dst.write(chunk)) src.pause();
    });
    dst.on('drain', () => {
      if (!this.held) src.resume();
    });
    src.on('end', () => dst.end());
    if (!this.held) src.resume();
  }

  hold(): void {
    this.held = true;
    this.client.pause();
    this.upstream?.pause();
  }

  release(): void {
    this.held = false;
    if (this.upstream === undefined) {
      this.connect();
      return;
    }
    if (!this.upstream.writableNeedDrain) this.client.resume();
    if (!this.client.writableNeedDrain) this.upstream.resume();
  }

  /** Abortive close of both sides: the ends see a reset, not a clean end of stream. */
  abort(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (this.upstream !== undefined && !this.upstream.destroyed) this.upstream.resetAndDestroy();
  }

  private sideClosed(): void {
    // Done when every side that exists has closed; a clean close of one side waits for the other's half.
    this.closed++;
    if (this.closed >= (this.upstream === undefined ? 1 : 2)) this.onDone(this);
  }
}

function boundPort(e: Endpoint): number {
  const address = e.server.address();
  return typeof address === 'object' && address !== null ? address.port : e.route.publicPort;
}

function stripMapped(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const problems = routeProblems(options.routes);
  if (problems.length > 0) throw new LabError('E_INVALID', 'relay routes', problems);
  const log = options.log ?? (() => {});
  const endpoints = new Map<string, Endpoint>();
  const bySource = new Map<string, Endpoint>();
  const links = new Set<Link>();

  const blocked = (from: Endpoint | null, to: Endpoint): CutMode | null => {
    if (from === null) return null;
    const modes = [from.cut, to.cut, from.cutFrom.get(to)];
    if (modes.includes('reset')) return 'reset';
    return modes.includes('silent') ? 'silent' : null;
  };

  /** A peer link touching `e`, or with `peer` one between the two (either direction). */
  const between = (link: Link, e: Endpoint, peer: Endpoint | undefined): boolean => {
    if (link.from === null) return false;
    if (peer === undefined) return link.from === e || link.to === e;
    return (link.from === e && link.to === peer) || (link.from === peer && link.to === e);
  };

  const accept = (to: Endpoint, client: Socket): void => {
    to.totals.accepted++;
    const from = bySource.get(stripMapped(client.remoteAddress)) ?? null;
    const link = new Link(client, from, to, (done) => links.delete(done));
    links.add(link);
    const verdict = blocked(from, to);
    if (verdict === 'reset') {
      to.totals.refused++;
      link.abort();
    } else if (verdict === 'silent') {
      link.hold();
    } else {
      link.connect();
    }
  };

  const find = (node: string): Endpoint => {
    const endpoint = endpoints.get(node);
    if (endpoint === undefined) throw new LabError('E_NOT_FOUND', `no node ${node} in this relay (known: ${[...endpoints.keys()].join(', ')})`);
    return endpoint;
  };

  /** The node and the optional peer of a cut or heal: both known, and not the same. */
  const findPair = (node: string, peer: string | undefined): [Endpoint, Endpoint | undefined] => {
    const unknown = [node, ...(peer === undefined ? [] : [peer])].filter((n) => !endpoints.has(n));
    if (unknown.length > 0) {
      throw new LabError('E_NOT_FOUND', `no node ${[...new Set(unknown)].join(' or ')} in this relay (known: ${[...endpoints.keys()].join(', ')})`);
    }
    if (peer === node) throw new LabError('E_INVALID', 'pair cut', [`peer: ${node} cannot be cut from itself`]);
    return [find(node), peer === undefined ? undefined : find(peer)];
  };

  const statusOf = (e: Endpoint): RelayNodeStatus => {
    const active = { peer: 0, admin: 0, held: 0 };
    for (const link of links) {
      if (link.to !== e) continue;
      if (link.from === null) active.admin++;
      else active.peer++;
      if (link.held) active.held++;
    }
    return {
      node: e.route.nodeId,
      cut: e.cut,
      cutFrom: [...e.cutFrom.keys()].map((p) => p.route.nodeId).sort(),
      publicAddress: `${e.route.publicHost}:${boundPort(e)}`,
      targetAddress: `${e.route.targetHost}:${e.route.targetPort}`,
      sourceHost: e.route.sourceHost,
      active,
      totals: { ...e.totals },
    };
  };

  for (const route of options.routes) {
    const endpoint: Endpoint = {
      route,
      server: createServer({ allowHalfOpen: true, pauseOnConnect: true }),
      cut: null,
      cutFrom: new Map(),
      totals: { accepted: 0, refused: 0, cutReset: 0, targetFailed: 0, bytesToTarget: 0, bytesFromTarget: 0 },
    };
    endpoint.server.on('connection', (client: Socket) => accept(endpoint, client));
    endpoints.set(route.nodeId, endpoint);
    bySource.set(route.sourceHost, endpoint);
  }

  const closeServers = async (): Promise<void> => {
    await Promise.all([...endpoints.values()].map((e) => new Promise<void>((resolve) => (e.server.listening ? e.server.close(() => resolve()) : resolve()))));
  };

  try {
    for (const e of endpoints.values()) {
      await new Promise<void>((resolve, reject) => {
        e.server.once('error', reject);
        e.server.listen(e.route.publicPort, e.route.publicHost, () => {
          e.server.off('error', reject);
          resolve();
        });
      });
    }
  } catch (err) {
    await closeServers();
    throw new LabError('E_EXISTS', `relay cannot listen: ${(err as Error).message}`, [], { cause: err });
  }

  let control: { close(): Promise<void> } | undefined;
  const relay: Relay = {
    cut(node, mode = 'reset', peer) {
      const [e, p] = findPair(node, peer);
      if (p === undefined) {
        e.cut = mode;
      } else {
        e.cutFrom.set(p, mode);
        p.cutFrom.set(e, mode);
      }
      for (const link of links) {
        if (!between(link, e, p)) continue;
        if (mode === 'reset') {
          e.totals.cutReset++;
          link.abort();
        } else {
          link.hold();
        }
      }
      log(`cut ${node}${p === undefined ? '' : ` from ${p.route.nodeId}`} (${mode})`);
      return statusOf(e);
    },
    heal(node, peer) {
      const [e, p] = findPair(node, peer);
      if (p === undefined) {
        e.cut = null;
        for (const other of e.cutFrom.keys()) other.cutFrom.delete(e);
        e.cutFrom.clear();
      } else {
        e.cutFrom.delete(p);
        p.cutFrom.delete(e);
      }
      // A held link goes through only when no cut is left on it: the other end's own cut still holds it.
      for (const link of links) {
        if (link.held && between(link, e, p) && blocked(link.from, link.to) === null) link.release();
      }
      log(`heal ${node}${p === undefined ? '' : ` from ${p.route.nodeId}`}`);
      return statusOf(e);
    },
    status: () => [...endpoints.values()].map(statusOf),
    publicAddress(node) {
      const e = find(node);
      return { host: e.route.publicHost, port: boundPort(e) };
    },
    async close() {
      await control?.close();
      for (const link of links) link.abort();
      await closeServers();
    },
  };

  if (options.controlSocket !== undefined) {
    try {
      control = await serveControl(relay, options.controlSocket);
    } catch (err) {
      await relay.close();
      throw err;
    }
  }
  return relay;
}
