// What the node controller (controller-node.ts) remembers of each group it
// runs under one (group, epoch) pair, and how that memory lines up with the
// applied cluster database. The database is the arbiter of failures: a
// resource it shows Failed in the run's epoch keeps the whole group from
// starting anything new until the leader orders that failure restarted or
// an administrator cleans it up, even across runs of the same epoch and
// across leaders.

import type { NodeId } from '../consensus/types.js';
import type { ResourceRecord, ResourceRequestRecord, ResourceState, ResourceStateRecord } from '../db/schema.js';
import type { ControllerView, MonitorOp } from './controller-io.js';
import { dependenciesMet, dependents, startOrder } from './controller-order.js';

export interface ResourceRun {
  record: ResourceRecord;
  /** Gone from the database: stopped, then forgotten. */
  deleted: boolean;
  /** What this node knows, as it reports it. */
  state: ResourceState;
  /** Its processes may exist: from issuing `online` until an offline, a terminate or the guard ends them. */
  mayRun: boolean;
  /** This node saw it fail and the database does not show that yet. */
  failed: boolean;
  /** It failed while its processes may linger: stop it before anything else. */
  cleanup: boolean;
  /** Its stop failed: terminate it. */
  terminate: boolean;
  /** Stopped on the leader's order (its group is held Failed); lifted when the database shows no failure any more. */
  held: boolean;
  /** `since` of the Failed record the leader ordered restarted: that record no longer holds the group back. */
  restartSince: number | null;
  /**
   * `since` of a restart the leader ordered before this node applied the
   * Failed record it names (the order overtook the commit): taken up as
   * soon as the database shows that record, instead of waiting for the
   * leader to order it again.
   */
  restartOrdered: number | null;
  /** The administrators' fail count last seen (from the value found when the run began): a higher one fails it. */
  failRequests: number;
  op: MonitorOp | null;
  /** The guard killed the group while `op` ran: its outcome says nothing of the resource. */
  opKilled: boolean;
  /** Local ms of the last report. */
  reportedAt: number;
  /** Reports resent since the database last showed this node's state; each waits twice as long (to 8 times). */
  resends: number;
}

export interface GroupRun {
  group: string;
  epoch: number;
  /** The lease holder announced the pair and has not stopped it. */
  allowed: boolean;
  /** The holder stopped the pair and waits for a confirmation; `confirmed` once given. */
  confirmStop: boolean;
  confirmed: boolean;
  resources: Map<string, ResourceRun>;
  /** Resource names in start order. */
  order: string[];
  /** resource → resources that must stop before it. */
  dependents: Map<string, string[]>;
  /** The database showed a failure in this epoch; when it no longer does, holds are lifted. */
  sawFailure: boolean;
  /** Resources administrators keep offline, and those whose dependencies cannot hold without them. */
  keptOffline: Set<string>;
}

/** The applied database, indexed for the controller. */
export class AppliedView {
  private readonly placements = new Map<string, { node: NodeId | null; epoch: number }>();
  private readonly states = new Map<string, ResourceStateRecord>();
  private readonly byGroup = new Map<string, ResourceRecord[]>();
  private readonly requests = new Map<string, ResourceRequestRecord>();

  constructor(view: ControllerView = { placements: [], resources: [], resourceStates: [] }) {
    for (const p of view.placements) this.placements.set(p.group, { node: p.node, epoch: p.epoch });
    for (const s of view.resourceStates) this.states.set(s.resource, s);
    for (const q of view.resourceRequests ?? []) this.requests.set(q.resource, q);
    for (const r of view.resources) {
      const list = this.byGroup.get(r.group);
      if (list === undefined) this.byGroup.set(r.group, [r]);
      else list.push(r);
    }
  }

  placedOn(group: string, node: NodeId, epoch: number): boolean {
    const p = this.placements.get(group);
    return p !== undefined && p.node === node && p.epoch === epoch;
  }

  resources(group: string): readonly ResourceRecord[] {
    return this.byGroup.get(group) ?? [];
  }

  /** Administrators' requests of the resource (defaults: online, no fail). */
  request(resource: string): { desired: 'online' | 'offline'; failRequest: number } {
    return this.requests.get(resource) ?? { desired: 'online', failRequest: 0 };
  }

  /** The resource's state record if it belongs to placement epoch `epoch`. */
  state(resource: string, epoch: number): ResourceStateRecord | undefined {
    const s = this.states.get(resource);
    return s !== undefined && s.epoch === epoch ? s : undefined;
  }
}

export function newRun(group: string, epoch: number, view: AppliedView): GroupRun {
  const run: GroupRun = {
    group, epoch, allowed: true, confirmStop: false, confirmed: false,
    resources: new Map(), order: [], dependents: new Map(), sawFailure: false, keptOffline: new Set(),
  };
  syncRun(run, view);
  return run;
}

/**
 * Takes in the group's resources as the database has them now (deleted ones
 * stay until stopped) and the failures it shows: one it shows replaces this
 * node's own knowledge of it; a resource it shows Failed takes that state
 * while nothing of it runs; a Failed resource it shows Offline (cleaned up)
 * is Offline; and once it shows no failure any more, holds lift.
 */
export function syncRun(run: GroupRun, view: AppliedView): void {
  const records = view.resources(run.group);
  const present = new Set(records.map((r) => r.name));
  for (const rec of records) {
    const r = run.resources.get(rec.name);
    if (r !== undefined) {
      r.record = rec;
      r.deleted = false;
      continue;
    }
    run.resources.set(rec.name, {
      record: rec, deleted: false, state: 'Offline', mayRun: false, failed: false, cleanup: false, terminate: false,
      held: false, restartSince: null, restartOrdered: null, failRequests: view.request(rec.name).failRequest, op: null, opKilled: false,
      reportedAt: -Infinity, resends: 0,
    });
  }
  for (const r of run.resources.values()) if (!present.has(r.record.name)) r.deleted = true;
  const all = [...run.resources.values()].map((r) => r.record);
  run.order = startOrder(all).map((r) => r.name);
  run.dependents = dependents(all);
  run.keptOffline = keptOffline(records, view);

  const idle = (r: ResourceRun): boolean => !r.mayRun && r.op === null;
  for (const r of run.resources.values()) {
    const rec = view.state(r.record.name, run.epoch);
    if (rec === undefined) continue;
    if (failedInDatabase(run, r, view)) {
      run.sawFailure = true;
      r.failed = false;
      if (idle(r)) r.state = 'Failed';
    } else if (r.state === 'Failed' && !r.failed && idle(r) && rec.state === 'Offline') {
      r.state = 'Offline';
    }
  }
  if (run.sawFailure && !groupHeldBack(run, view)) {
    run.sawFailure = false;
    for (const r of run.resources.values()) r.held = false;
  }
}

/**
 * Resources administrators keep offline, and, transitively, those whose
 * dependencies cannot hold while those are offline (as the database's
 * resource offline reckons them).
 */
function keptOffline(records: readonly ResourceRecord[], view: AppliedView): Set<string> {
  const out = new Set(records.filter((r) => view.request(r.name).desired === 'offline').map((r) => r.name));
  for (let changed = out.size > 0; changed;) {
    changed = false;
    const up = new Set(records.filter((r) => !out.has(r.name)).map((r) => r.name));
    for (const r of records) {
      if (out.has(r.name) || dependenciesMet(r.dependsOn, up)) continue;
      out.add(r.name);
      changed = true;
    }
  }
  return out;
}

/** The database shows the resource Failed in the run's epoch, and the leader has not ordered that failure restarted. */
export function failedInDatabase(run: GroupRun, r: ResourceRun, view: AppliedView): boolean {
  const rec = view.state(r.record.name, run.epoch);
  return rec !== undefined && rec.state === 'Failed' && rec.since !== r.restartSince;
}

/** Some resource of the run is Failed in the database: nothing new starts until the leader or an administrator decides. */
export function groupHeldBack(run: GroupRun, view: AppliedView): boolean {
  for (const r of run.resources.values()) if (failedInDatabase(run, r, view)) return true;
  return false;
}
