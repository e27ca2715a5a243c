// The API's group methods as this agent carries them out (changes run on
// the leader, reads on the asked node; agent-api.ts routes them), and the
// views of groups and resources that group and resource methods answer
// with: the database's records plus their derived state, nodes by name.
import type { ApiMethod, GroupChange, GroupView, ResourceView } from '../../client/api.js';
import type { ClusterCommand, GroupSettingsInput } from '../db/commands.js';
import type { ClusterDatabase } from '../db/database.js';
import type { GroupRecord, PlacementRecord, ResourceRecord, ResourceRequestRecord, ResourceStateRecord } from '../db/schema.js';
import { formatDependency } from '../db/dependency.js';
import { defaultRequests } from '../db/schema.js';
import { didYouMean } from '../db/suggest.js';
import { AgentError } from './agent-error.js';
import type { Caller } from './api-server.js';
import type { NodeAgent } from './node-agent.js';

export type MethodHandler = (params: Record<string, unknown>, caller: Caller) => Promise<unknown>;
type GroupMethod = Extract<ApiMethod, `group.${string}`>;

/** One snapshot of the records views are made of, indexed once: listing 10,000 resources reads each record once. */
export class ClusterViews {
  private readonly nodeNames = new Map<string, string>();
  private readonly placements = new Map<string, PlacementRecord>();
  private readonly states = new Map<string, ResourceStateRecord>();
  private readonly requests = new Map<string, ResourceRequestRecord>();
  private readonly resources: ResourceRecord[];

  constructor(private readonly db: ClusterDatabase) {
    for (const n of db.listNodes()) this.nodeNames.set(n.id, n.name);
    for (const p of db.listPlacements()) this.placements.set(p.group, p);
    for (const s of db.listResourceStates()) this.states.set(s.resource, s);
    for (const r of db.listResourceRequests()) this.requests.set(r.resource, r);
    this.resources = db.listResources();
  }

  groups(): GroupView[] {
    return this.db.listGroups().map((g) => this.groupView(g));
  }

  group(name: string): GroupView | undefined {
    const record = this.db.getGroup(name);
    return record && this.groupView(record);
  }

  resourceList(group?: string): ResourceView[] {
    return this.resources.filter((r) => group === undefined || r.group === group).map((r) => this.resourceView(r));
  }

  resource(name: string): ResourceView | undefined {
    const record = this.resources.find((r) => r.name === name);
    return record && this.resourceView(record);
  }

  /** A node's name; the id itself for a node no longer listed. */
  private name(id: string): string {
    return this.nodeNames.get(id) ?? id;
  }

  private groupView(g: GroupRecord): GroupView {
    const placement = this.placements.get(g.name);
    const owner = placement?.node ?? null;
    return {
      name: g.name,
      state: this.db.groupState(g.name) ?? 'Offline',
      desired: g.desired,
      owner: owner === null ? null : this.name(owner),
      epoch: placement?.epoch ?? 0,
      move: g.move && { to: g.move.to === null ? null : this.name(g.move.to), from: g.move.from === null ? null : this.name(g.move.from) },
      preferredOwners: g.preferredOwners.map((id) => this.name(id)),
      possibleOwners: g.possibleOwners.map((id) => this.name(id)),
      failoverThreshold: g.failoverThreshold,
      failoverPeriod: g.failoverPeriod,
      failoverRetry: g.failoverRetry,
      failback: g.failback,
      failbackWindow: g.failbackWindow,
      antiAffinityClasses: g.antiAffinityClasses,
      priority: g.priority,
      restart: g.restart,
      cleanupRequest: g.cleanupRequest,
      resources: this.resourceList(g.name),
    };
  }

  private resourceView(r: ResourceRecord): ResourceView {
    const record = this.states.get(r.name);
    // A report of an earlier placement says nothing about this one.
    const state = record !== undefined && record.epoch === (this.placements.get(r.group)?.epoch ?? 0) ? record : undefined;
    const requests = this.requests.get(r.name) ?? defaultRequests(r.name);
    return {
      name: r.name,
      group: r.group,
      type: r.type,
      state: state?.state ?? 'Offline',
      desired: requests.desired,
      node: state?.node == null ? null : this.name(state.node),
      since: state?.since ?? null,
      reason: state?.reason ?? null,
      parameters: r.parameters,
      dependsOn: r.dependsOn === null ? null : formatDependency(r.dependsOn),
      restart: r.restart,
      deadlines: r.deadlines,
      checkIntervals: r.checkIntervals,
      possibleOwners: r.possibleOwners.map((id) => this.name(id)),
      isolate: r.isolate,
      failRequest: requests.failRequest,
      cleanupRequest: requests.cleanupRequest,
    };
  }
}

/** E_NOT_FOUND naming what exists, or the nearest name. */
export function notFound(what: string, name: string, known: readonly string[]): AgentError {
  const hint = didYouMean(name, known) ?? (known.length > 0 ? `${what}s: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}` : `there is no ${what} yet`);
  return new AgentError('E_NOT_FOUND', `no ${what} '${name.slice(0, 64)}' in this cluster`, hint);
}

export function groupMethods(agent: NodeAgent): Record<GroupMethod, MethodHandler> {
  const db = (): ClusterDatabase => agent.requireSession().machine.db;
  const barrier = async (p: Record<string, unknown>): Promise<void> => {
    if (p.consistent === true) await agent.requireSession().runtime.readBarrier();
  };
  const show = (name: string): GroupView => {
    const view = new ClusterViews(db()).group(name);
    if (view === undefined) throw notFound('group', name, db().listGroups().map((g) => g.name));
    return view;
  };
  /** Proposes `cmd` (on the leader: agent-api.ts routes changes there) and answers with the group after it. */
  const change = async (cmd: ClusterCommand, caller: Caller, group: string): Promise<GroupChange> => {
    const result = await agent.propose(cmd, caller);
    return { index: result.index, group: show(group), warnings: result.reports.filter((r) => r.severity === 'warning') };
  };
  const named = (p: Record<string, unknown>): string => p.group as string;
  return {
    'group.create': async (p, caller) => {
      const settings = p.settings === undefined ? {} : { settings: p.settings as GroupSettingsInput };
      return change({ type: 'group.create', name: named(p), ...settings }, caller, named(p));
    },
    'group.set': async (p, caller) => change({ type: 'group.set', name: named(p), settings: p.settings as GroupSettingsInput }, caller, named(p)),
    'group.delete': async (p, caller) => {
      const resources = db().listResources(named(p)).map((r) => r.name);
      const result = await agent.propose({ type: 'group.delete', name: named(p) }, caller, p.force === true);
      return { index: result.index, deleted: named(p), resources };
    },
    'group.show': async (p) => {
      await barrier(p);
      return show(named(p));
    },
    'group.list': async (p) => {
      await barrier(p);
      return new ClusterViews(db()).groups();
    },
    'group.online': async (p, caller) => change({ type: 'group.online', name: named(p) }, caller, named(p)),
    'group.offline': async (p, caller) => change({ type: 'group.offline', name: named(p) }, caller, named(p)),
    'group.move': async (p, caller) => change({ type: 'group.move', name: named(p), ...(typeof p.to === 'string' ? { to: p.to } : {}) }, caller, named(p)),
    'group.cleanup': async (p, caller) => change({ type: 'group.cleanup', name: named(p) }, caller, named(p)),
  };
}
