// The API's methods (src/client/api.ts) as this agent carries them out,
// and where each runs: on the asked node, or on the leader (changes, and the
// leader's view of the nodes), to which a follower forwards the request and
// relays the answer. Reads of the configuration are answered from the
// asked node's applied state unless `consistent` asks for a read barrier
// on the leader.
import { performance } from 'node:perf_hooks';
import type { AgentIdentity, ApiMethod } from '../../client/api.js';
import type { NodeId } from '../consensus/types.js';
import { DbError } from '../db/report.js';
import { validateName } from '../db/names.js';
import { propertyDefaults } from '../db/properties.js';
import type { PropertyKey } from '../db/properties.js';
import type { ResumeFailback } from '../db/schema.js';
import { parseAddress } from '../db/names.js';
import { publicKeyBlob } from '../transport/keys.js';
import { AgentError } from './agent-error.js';
import { checkRequest } from './api-params.js';
import type { Caller } from './api-server.js';
import type { JoinMember } from './cluster-file.js';
import { MembershipOps } from './membership-ops.js';
import type { NodeAgent } from './node-agent.js';
import { agentIdentity, agentStatus, clusterStatus, nodeView, nodeViews } from './views.js';
import { groupMethods } from './group-ops.js';
import { resourceMethods } from './resource-ops.js';

/** here: the asked node. leader: only the leader. view: the leader's view if there is a leader, else the asked node's. */
type Route = 'here' | 'leader' | 'view';

type Params = Record<string, unknown>;
type Handler = (params: Params, caller: Caller) => Promise<unknown>;

const VIEWER_METHODS: ReadonlySet<ApiMethod> = new Set([
  'agent.identity', 'agent.status', 'cluster.status', 'node.list', 'node.show', 'config.get', 'config.history',
  'group.show', 'group.list', 'resource.show', 'resource.list', 'resource.types',
]);
const ADMIN_METHODS: ReadonlySet<ApiMethod> = new Set(['cluster.create', 'cluster.join', 'cluster.destroy', 'node.add', 'node.remove', 'node.evict']);

/**
 * How long a method may work before it answers E_TIMEOUT, ms: adding a node
 * waits for it to catch up. Below the CLI's default call timeout (30 s), and
 * a forwarding node waits a margin longer, so the leader's own answer wins.
 */
const WORK_TIMEOUT_MS: Partial<Record<ApiMethod, number>> = { 'node.add': 20_000, 'node.remove': 15_000, 'node.evict': 15_000, 'cluster.destroy': 10_000 };
const DEFAULT_WORK_TIMEOUT_MS = 10_000;
const FORWARD_MARGIN_MS = 5_000;
const CREATE_TIMEOUT_MS = 10_000;
const VIEW_FORWARD_TIMEOUT_MS = 3_000;
/** How long a forwarded change waits for this node to apply it before answering anyway, ms. */
const APPLY_WAIT_MS = 1_000;
const workTimeout = (method: ApiMethod): number => WORK_TIMEOUT_MS[method] ?? DEFAULT_WORK_TIMEOUT_MS;

export class AgentApi {
  private readonly membership: MembershipOps;
  private readonly handlers: Record<ApiMethod, Handler>;

  constructor(private readonly agent: NodeAgent) {
    this.membership = new MembershipOps(agent);
    this.handlers = this.makeHandlers();
  }

  /** A request from the local socket or an SSH admin: runs here or is forwarded to the leader. */
  dispatch(method: string, params: unknown, caller: Caller): Promise<unknown> {
    return this.run(method, params, caller, false);
  }

  /** A request a peer forwarded: runs here, never forwarded again. */
  serveForwarded(method: string, params: unknown, caller: Caller): Promise<unknown> {
    return this.run(method, params, caller, true);
  }

  private async run(rawMethod: string, rawParams: unknown, caller: Caller, forwarded: boolean): Promise<unknown> {
    const { method, params } = checkRequest(rawMethod, rawParams);
    authorize(method, caller);
    const route = routeOf(method, params);
    if (route !== 'here') {
      const self = this.agent.identity.nodeId;
      const leader = forwarded ? self : await this.findLeader(route === 'view');
      if (forwarded && route === 'leader' && this.agent.raftStatus()?.role !== 'leader') {
        throw new AgentError('E_NOT_LEADER', 'this node is not the leader any more', 'retry: the request goes to the new leader');
      }
      if (leader !== null && leader !== self) {
        const result = await this.forward(leader, method, params, caller, route);
        if (route === 'leader') await this.applied(result);
        return result;
      }
    }
    return this.handlers[method](params, caller);
  }

  /**
   * After a change the leader made for a request asked here: waits (briefly)
   * until this node applied the change's log index, so that a read asked
   * here next sees it.
   */
  private async applied(result: unknown): Promise<void> {
    const index = typeof result === 'object' && result !== null && 'index' in result && typeof result.index === 'number' ? result.index : null;
    if (index === null) return;
    await this.agent.waitFor(`this node to apply index ${index}`, APPLY_WAIT_MS, () => (this.agent.db()?.appliedIndex ?? 0) >= index).catch(() => undefined);
  }

  /** The leader's id; waits up to two election timeouts for one. `optional`: null at once instead of waiting. */
  private async findLeader(optional: boolean): Promise<NodeId | null> {
    const session = this.agent.requireSession();
    const known = session.runtime.status().leader;
    if (known !== null || optional) return known;
    const waitMs = 2 * session.timing.raft.electionTimeoutMinMs + 1000;
    try {
      await this.agent.waitFor('a leader', waitMs, () => session.runtime.status().leader !== null);
    } catch {
      throw new AgentError('E_NO_QUORUM', 'there is no leader: a quorum of voting nodes cannot be reached from here', 'check `fcm node list` for Down nodes and their links');
    }
    return session.runtime.status().leader;
  }

  private async forward(leader: NodeId, method: ApiMethod, params: Params, caller: Caller, route: Route): Promise<unknown> {
    // A view falls back to this node's own soon: status must answer while the cluster is in trouble.
    const timeoutMs = route === 'view' ? VIEW_FORWARD_TIMEOUT_MS : workTimeout(method) + FORWARD_MARGIN_MS;
    let target = leader;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.agent.peerApi.call(target, method, params, caller, timeoutMs);
      } catch (err) {
        const code = err instanceof AgentError ? err.code : '';
        // The leader cannot be reached: a view can still be answered from here.
        if (route === 'view' && (code === 'E_UNAVAILABLE' || code === 'E_TIMEOUT')) return this.handlers[method](params, caller);
        if (code !== 'E_NOT_LEADER' || attempt >= 3) throw err;
        // Leadership moved while the request travelled: find the new leader.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const next = await this.findLeader(false);
        if (next === null) throw err;
        if (next === this.agent.identity.nodeId) return this.handlers[method](params, caller);
        target = next;
      }
    }
  }

  private makeHandlers(): Record<ApiMethod, Handler> {
    const agent = this.agent;
    const db = () => agent.requireSession().machine.db;
    const barrier = async (params: Params): Promise<void> => {
      if (params.consistent === true) await agent.requireSession().runtime.readBarrier();
    };
    return {
      'agent.identity': async () => agentIdentity(agent),
      'agent.status': async () => agentStatus(agent),
      'cluster.create': async (p, caller) => {
        const problem = validateName(p.name, 'cluster', 'name');
        if (problem) throw new AgentError('E_INVALID_NAME', problem.message, problem.hint);
        await agent.createCluster(p.name as string, caller, CREATE_TIMEOUT_MS);
        return clusterStatus(agent);
      },
      'cluster.join': async (p) => {
        const members = checkMembers(p.members as JoinMember[]);
        await agent.joinCluster(p.clusterId as string, p.clusterName as string, members);
        return { joined: true };
      },
      'cluster.status': async (p) => {
        await barrier(p);
        return clusterStatus(agent);
      },
      'cluster.destroy': async (p, caller) => this.destroy(p.all === true, caller),
      'node.list': async (p) => {
        await barrier(p);
        return nodeViews(agent);
      },
      'node.show': async (p) => nodeView(agent, this.membership.findNode(p.node as string)),
      'node.add': async (p, caller) => this.membership.add(p.identity as AgentIdentity, caller, workTimeout('node.add')),
      'node.remove': async (p, caller) => this.membership.remove(p.node as string, caller, p.force === true, workTimeout('node.remove')),
      'node.evict': async (p, caller) => this.membership.evict(p.node as string, caller, p.force === true, workTimeout('node.evict')),
      'node.pause': async (p, caller) => {
        const node = this.membership.findNode(p.node as string);
        await agent.propose({ type: 'node.set', node: node.id, paused: true, drain: p.drain === true }, caller);
        return nodeView(agent, this.membership.findNode(node.id));
      },
      'node.resume': async (p, caller) => {
        // The resume and its failback choice are recorded together; the placement planner acts on them.
        const node = this.membership.findNode(p.node as string);
        const failback = p.failback as ResumeFailback | undefined;
        await agent.propose({ type: 'node.set', node: node.id, paused: false, drain: false, ...(failback === undefined ? {} : { failback }) }, caller);
        return nodeView(agent, this.membership.findNode(node.id));
      },
      'config.get': async (p) => {
        await barrier(p);
        const properties = db().getProperties() as unknown as Record<string, number | string>;
        const defaults = propertyDefaults(db().getProperties().profile) as unknown as Record<string, number | string>;
        if (typeof p.key !== 'string') return { properties, defaults };
        const key = p.key as PropertyKey;
        try {
          return { properties: { [key]: db().getProperty(key) }, defaults: { [key]: defaults[key] as number | string } };
        } catch (err) {
          if (err instanceof DbError) throw new AgentError(err.code, err.message, err.reports[0]?.hint, err.reports);
          throw err;
        }
      },
      'config.set': async (p, caller) => {
        const values = p.values as Record<string, string | number | null>;
        const result = await agent.propose({ type: 'property.set', values }, caller, p.force === true);
        return {
          index: result.index,
          properties: db().getProperties() as unknown as Record<string, number | string>,
          warnings: result.reports.filter((r) => r.severity === 'warning'),
        };
      },
      'config.history': async (p) => db().history({
        ...(typeof p.limit === 'number' ? { limit: p.limit } : {}),
        ...(typeof p.sinceIndex === 'number' ? { sinceIndex: p.sinceIndex } : {}),
        ...(typeof p.type === 'string' ? { type: p.type } : {}),
      }),
      ...groupMethods(agent),
      ...resourceMethods(agent),
    };
  }

  /**
   * This node leaves; with `all`, every other node this node's database lists
   * is told to leave first (so their answers reach this node, still a member).
   */
  private async destroy(all: boolean, caller: Caller): Promise<{ destroyed: string[] }> {
    const agent = this.agent;
    const session = agent.requireSession();
    const destroyed: string[] = [];
    if (all) {
      const others = session.machine.db.listNodes().filter((n) => n.id !== agent.identity.nodeId);
      const started = performance.now();
      await Promise.all(others.map(async (node) => {
        try {
          await agent.peerApi.call(node.id, 'cluster.destroy', {}, caller, workTimeout('cluster.destroy'));
          destroyed.push(node.name);
        } catch (err) {
          agent.log.warn('a node did not confirm that it left', { node: node.name, err, afterMs: Math.round(performance.now() - started) });
        }
      }));
    }
    await agent.leaveCluster();
    destroyed.push(agent.identity.name);
    return { destroyed: destroyed.sort() };
  }
}

function routeOf(method: ApiMethod, params: Params): Route {
  switch (method) {
    case 'node.add': case 'node.remove': case 'node.evict': case 'node.pause': case 'node.resume': case 'config.set':
    case 'group.create': case 'group.delete': case 'group.set': case 'group.online': case 'group.offline': case 'group.move': case 'group.cleanup':
    case 'resource.create': case 'resource.delete': case 'resource.set': case 'resource.depend':
    case 'resource.online': case 'resource.offline': case 'resource.fail': case 'resource.cleanup':
      return 'leader';
    case 'cluster.status': case 'node.list': case 'node.show':
      return params.consistent === true ? 'leader' : 'view';
    case 'config.get': case 'config.history':
    case 'group.show': case 'group.list': case 'resource.show': case 'resource.list':
      return params.consistent === true ? 'leader' : 'here';
    default:
      return 'here';
  }
}

function authorize(method: ApiMethod, caller: Caller): void {
  if (caller.role === 'admin') return;
  if (VIEWER_METHODS.has(method)) return;
  if (caller.role === 'operator' && !ADMIN_METHODS.has(method)) return;
  throw new AgentError('E_REFUSED', `role ${caller.role} may not call ${method}`, 'ask an administrator, or use a key with a stronger role');
}

/** Every member must name a key and an address this agent can use; every problem is reported. */
function checkMembers(members: JoinMember[]): JoinMember[] {
  const problems: string[] = [];
  members.forEach((m, i) => {
    try {
      publicKeyBlob(m.publicKey);
    } catch {
      problems.push(`members[${i}].publicKey is not a public key`);
    }
    if (parseAddress(m.address) === null) problems.push(`members[${i}].address is not host:port`);
  });
  if (problems.length > 0) throw new AgentError('E_INVALID_PARAMS', `cluster.join: ${problems.join('; ')}`);
  return members.map(({ nodeId, name, publicKey, address, incarnation }) => ({ nodeId, name, publicKey, address, incarnation }));
}
