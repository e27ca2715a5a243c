// What one node decides about the groups its lease lets it run (safety
// rules 1 and 5). Inputs: the lease holder's changes, the applied cluster
// database, the resource monitor's results, the lease guard's answers and
// the leader's orders. Outputs, as data (NodeActions): the guard's lease,
// monitor operations, resource state reports, and "stopped" confirmations
// for the lease holder. The agent and the simulator run this same code.
//
// - A resource starts only while the lease allows its (group, epoch), the
//   applied database places the group here in that epoch, the guard has
//   acknowledged a lease listing the group, and at least `minLeaseLeftMs`
//   remain before that lease's deadline; its dependencies come first.
// - The monitor begins an online operation only before the acknowledged
//   guard deadline (`notAfter`): after it the guard may have killed the
//   group, and a process started then would outlive the lease.
// - A group the lease drops, or every group once the lease has ended, stops
//   at once: resources go offline in reverse dependency order.
// - A stop is confirmed to the holder only when no process of the group
//   can exist: the monitor finished every resource's offline (or never
//   began its online), or the guard killed the group.
// - A failed resource is cleaned up (offline) and reported Failed. Once the
//   database shows it, the group starts nothing new until the leader orders
//   that failure restarted (the restart policy decides) or it is cleaned up.

import type { NodeId } from '../consensus/types.js';
import type { ResourceState } from '../db/schema.js';
import type { LeaseTiming } from './lease-config.js';
import type { LeaseChange } from './lease-holder.js';
import type { ControllerView, GuardEvent, GuardLease, MonitorEvent, MonitorOp, NodeActions, OwnerOrder } from './controller-io.js';
import { dependenciesMet } from './controller-order.js';
import { transitionPath } from './controller-reports.js';
import { AppliedView, groupHeldBack, newRun, syncRun } from './controller-runs.js';
import type { GroupRun, ResourceRun } from './controller-runs.js';

export interface NodeControllerOptions {
  node: NodeId;
  timing: LeaseTiming;
  /**
   * ms that must remain before the acknowledged guard deadline for a
   * resource to be started (default 2 h: two renewals lost). Shorter: starts
   * on a lease about to lapse, which the guard then kills.
   */
  minLeaseLeftMs?: number;
  /** ms after which a report the applied database does not show yet is sent again, doubling to 8 times (default E_min). */
  reportRetryMs?: number;
}

/** From the lease holder, read after each of its calls: `allowed(now).until` and `guardDeadline()`. */
export interface LeaseState {
  until: number;
  guardDeadline: number;
}

/** One group as the controller sees it (status and tests). */
export interface GroupRunStatus {
  group: string;
  epoch: number;
  allowed: boolean;
  resources: { name: string; state: ResourceState; mayRun: boolean; failed: boolean }[];
}

const RUNNING: readonly ResourceState[] = ['OnlinePending', 'Online', 'OfflinePending'];
const MAX_UNACKED_GUARD_LEASES = 32;
const MAX_RESEND_DOUBLINGS = 3;

export class NodeController {
  private readonly node: NodeId;
  private readonly minLeaseLeftMs: number;
  private readonly reportRetryMs: number;
  private lease: LeaseState = { until: -Infinity, guardDeadline: -Infinity };
  private readonly runs = new Map<string, GroupRun>();
  /** group → an epoch the lease allows that waits for the group's older run to end. */
  private readonly next = new Map<string, number>();
  private view = new AppliedView();
  private nextOpId = 1;
  private readonly ops = new Map<number, { run: GroupRun; r: ResourceRun }>();
  private guardSeq = 0;
  private lastGuard: GuardLease | null = null;
  private readonly unacked = new Map<number, GuardLease>();
  /** The lease the guard holds, as far as this node knows; null when it holds none. */
  private acked: GuardLease | null = null;
  /** What the input being handled produced so far; `act` completes and returns it. */
  private out: NodeActions = { guard: null, monitor: [], reports: [], stopped: [] };

  constructor(options: NodeControllerOptions) {
    this.node = options.node;
    this.minLeaseLeftMs = options.minLeaseLeftMs ?? 2 * options.timing.heartbeatIntervalMs;
    this.reportRetryMs = options.reportRetryMs ?? options.timing.electionTimeoutMinMs;
  }

  /** After every call into the lease holder: its change (often empty) and its lease now. */
  onLease(change: LeaseChange, lease: LeaseState, now: number): NodeActions {
    this.lease = { ...lease };
    for (const { group, epoch } of change.stop) {
      if (this.next.get(group) === epoch) this.next.delete(group);
      const run = this.runs.get(group);
      if (run?.epoch !== epoch) {
        // Nothing ran under the pair: it waited for an older run to end.
        this.out.stopped.push({ group, epoch });
        continue;
      }
      run.allowed = false;
      run.confirmStop = true;
      run.confirmed = false;
    }
    for (const { group, epoch } of change.start) {
      const run = this.runs.get(group);
      if (run === undefined) this.runs.set(group, newRun(group, epoch, this.view));
      else if (run.epoch === epoch) {
        run.allowed = true;
        run.confirmStop = false;
      } else this.next.set(group, epoch);
    }
    return this.act(now);
  }

  /** The applied database changed (or call it with every batch applied). */
  onCommitted(view: ControllerView, now: number): NodeActions {
    this.view = new AppliedView(view);
    for (const run of this.runs.values()) {
      syncRun(run, this.view);
      for (const r of run.resources.values()) {
        this.takeRestartOrder(run, r);
        // resource fail: the node running it fails it as if its health check had.
        const asked = this.view.request(r.record.name).failRequest;
        if (asked <= r.failRequests) continue;
        r.failRequests = asked;
        if (r.op === null && r.state === 'Online') this.fail(run, r, now, 'failed on request');
      }
    }
    return this.act(now);
  }

  onMonitor(ev: MonitorEvent, now: number): NodeActions {
    if (ev.kind === 'failed') {
      const run = this.runs.get(ev.group);
      const r = run?.resources.get(ev.resource);
      // A failure seen during an operation is that operation's to report.
      if (run !== undefined && r !== undefined && r.op === null && r.state === 'Online') this.fail(run, r, now, ev.reason);
      return this.act(now);
    }
    const found = this.ops.get(ev.id);
    if (found === undefined) return this.act(now);
    const { run, r } = found;
    this.ops.delete(ev.id);
    if (r.op?.id !== ev.id) return this.act(now);
    const op = r.op;
    const killed = r.opKilled;
    r.op = null;
    r.opKilled = false;
    if (op.kind === 'online') {
      if (killed || ev.outcome === 'expired') {
        r.mayRun = false;
        this.setState(run, r, 'Offline', now, killed ? 'killed by the lease guard' : 'not started: the lease ran out');
      } else if (ev.outcome === 'ok') {
        this.setState(run, r, 'Online', now);
      } else if (ev.outcome === 'failed') {
        this.fail(run, r, now, ev.reason ?? 'start failed');
      }
    } else if (op.kind === 'offline') {
      if (ev.outcome === 'ok' || killed) {
        r.mayRun = false;
        // A cleanup after a failure leaves it Failed.
        this.setState(run, r, r.state === 'Failed' ? 'Failed' : 'Offline', now);
      } else if (ev.outcome === 'failed') {
        r.failed = true;
        r.terminate = true;
        this.setState(run, r, 'Failed', now, ev.reason ?? 'stop failed');
      }
    } else if (ev.outcome === 'ok' || killed) {
      r.mayRun = false;
    } else {
      r.terminate = true;
    }
    return this.act(now);
  }

  onGuard(ev: GuardEvent, now: number): NodeActions {
    if (ev.kind === 'acked') {
      const lease = this.unacked.get(ev.seq);
      if (lease !== undefined && (this.acked === null || lease.seq > this.acked.seq)) this.acked = lease;
      for (const seq of this.unacked.keys()) if (seq <= ev.seq) this.unacked.delete(seq);
      return this.act(now);
    }
    if (ev.kind === 'expired') this.acked = null;
    for (const run of this.runs.values()) {
      if (ev.kind === 'killed' && run.group !== ev.group) continue;
      for (const r of run.resources.values()) {
        // An online operation that may still begin keeps its resource alive:
        // one issued before an expiry cannot (its notAfter is not later), one
        // pending at a single group's kill can.
        const mayBegin = r.op?.kind === 'online' && (ev.kind === 'killed' || (r.op.notAfter ?? Infinity) > ev.deadline);
        if (mayBegin) continue;
        r.mayRun = false;
        r.terminate = false;
        if (r.op !== null) r.opKilled = true;
        if (RUNNING.includes(r.state)) this.setState(run, r, 'Offline', now, 'killed by the lease guard');
      }
    }
    return this.act(now);
  }

  /** An order from the leader for a group this node runs; one for another run or a stale failure is ignored. */
  onOrder(order: OwnerOrder, now: number): NodeActions {
    const run = this.runs.get(order.group);
    const r = run?.epoch === order.epoch ? run.resources.get(order.resource) : undefined;
    if (run === undefined || r === undefined) return this.act(now);
    // A hold is for a failure the database shows; an order the database no longer backs (cleaned up meanwhile) is stale.
    if (order.kind === 'stop-resource') r.held = r.held || groupHeldBack(run, this.view);
    else {
      r.restartOrdered = order.failedSince;
      this.takeRestartOrder(run, r);
    }
    return this.act(now);
  }

  /**
   * A restart order is taken only when the database shows the very failure
   * it names (same `since`); until then it waits, and the next order
   * replaces it. The run is per epoch, so it never outlives its placement.
   */
  private takeRestartOrder(run: GroupRun, r: ResourceRun): void {
    const ordered = r.restartOrdered;
    if (ordered === null) return;
    const shown = this.view.state(r.record.name, run.epoch);
    if (shown?.state === 'Failed' && shown.since === ordered) {
      r.restartSince = ordered;
      r.failed = false;
      r.restartOrdered = null;
    }
  }

  /** Call at least every heartbeat interval: reports the database does not show yet go again. */
  tick(now: number): NodeActions {
    for (const run of this.runs.values()) {
      if (!this.placedHere(run)) continue;
      for (const r of run.resources.values()) {
        if (r.deleted) continue;
        const shown = this.view.state(r.record.name, run.epoch)?.state ?? 'Offline';
        const path = transitionPath(shown, r.state);
        if (path.length === 0) {
          r.resends = 0;
          continue;
        }
        if (now - r.reportedAt < this.reportRetryMs * 2 ** Math.min(r.resends, MAX_RESEND_DOUBLINGS)) continue;
        r.reportedAt = now;
        r.resends++;
        for (const state of path) this.out.reports.push(this.report(run, r, state, 'resent'));
      }
    }
    return this.act(now);
  }

  status(): GroupRunStatus[] {
    return [...this.runs.values()].map((run) => ({
      group: run.group,
      epoch: run.epoch,
      allowed: run.allowed,
      resources: run.order.map((name) => {
        const r = run.resources.get(name) as ResourceRun;
        return { name, state: r.state, mayRun: r.mayRun, failed: r.failed };
      }),
    }));
  }

  /** What to do now, after any input: what the input itself produced, then what follows from the state. */
  private act(now: number): NodeActions {
    const out = this.out;
    this.settle(out);
    out.guard = this.guardLease();
    for (const run of this.runs.values()) this.drive(run, now, out);
    this.settle(out);
    this.out = { guard: null, monitor: [], reports: [], stopped: [] };
    return out;
  }

  /** Confirms stops that are done and ends runs with nothing left to wait for. */
  private settle(out: NodeActions): void {
    for (const run of [...this.runs.values()]) {
      if (run.allowed) continue;
      const down = [...run.resources.values()].every((r) => !r.mayRun);
      if (!down) continue;
      if (run.confirmStop && !run.confirmed) {
        run.confirmed = true;
        out.stopped.push({ group: run.group, epoch: run.epoch });
      }
      if ([...run.resources.values()].some((r) => r.op !== null)) continue;
      this.runs.delete(run.group);
      const epoch = this.next.get(run.group);
      if (epoch !== undefined) {
        this.next.delete(run.group);
        this.runs.set(run.group, newRun(run.group, epoch, this.view));
      }
    }
  }

  private drive(run: GroupRun, now: number, out: NodeActions): void {
    const wanted = run.allowed && now < this.lease.until;
    const acked = this.acked;
    const mayStart = wanted && this.placedHere(run) && acked !== null && acked.groups.includes(run.group) &&
      now < acked.deadline - this.minLeaseLeftMs;
    const heldBack = groupHeldBack(run, this.view);
    const online = new Set([...run.resources.values()].filter((r) => r.state === 'Online').map((r) => r.record.name));
    const names = wanted ? run.order : [...run.order].reverse();
    for (const name of names) {
      const r = run.resources.get(name) as ResourceRun;
      if (r.op !== null) continue;
      if (r.terminate && r.mayRun) {
        this.issue(run, r, 'terminate', null, out);
      } else if (r.cleanup && r.mayRun) {
        this.issue(run, r, 'offline', null, out);
      } else if (!wanted || r.held || r.deleted || run.keptOffline.has(name)) {
        const blocked = (run.dependents.get(name) ?? []).some((d) => run.resources.get(d)?.mayRun === true);
        if (r.mayRun && !blocked) {
          this.issue(run, r, 'offline', null, out);
          if (r.state === 'Online' || r.state === 'OnlinePending') this.setState(run, r, 'OfflinePending', now);
        }
      } else if (mayStart && !r.mayRun && !r.failed && !heldBack && dependenciesMet(r.record.dependsOn, online)) {
        this.issue(run, r, 'online', acked.deadline, out);
        r.mayRun = true;
        this.setState(run, r, 'OnlinePending', now);
      }
    }
  }

  /** The resource failed (its processes may linger): clean it up and report it. */
  private fail(run: GroupRun, r: ResourceRun, now: number, reason: string): void {
    r.failed = true;
    r.cleanup = true;
    this.setState(run, r, 'Failed', now, reason);
  }

  private issue(run: GroupRun, r: ResourceRun, kind: MonitorOp['kind'], notAfter: number | null, out: NodeActions): void {
    const op: MonitorOp = { id: this.nextOpId++, kind, group: run.group, epoch: run.epoch, resource: r.record.name, notAfter };
    r.op = op;
    r.opKilled = false;
    if (kind === 'terminate') r.terminate = false;
    // A start begins with no leftovers: it is issued only when nothing of the resource runs.
    if (kind === 'online') r.cleanup = false;
    this.ops.set(op.id, { run, r });
    out.monitor.push(op);
  }

  /** The guard's lease when it differs from the last one sent; null while no lease was ever held. */
  private guardLease(): GuardLease | null {
    const deadline = this.lease.guardDeadline;
    if (!Number.isFinite(deadline)) return null;
    const groups = [...this.runs.keys()].sort();
    const last = this.lastGuard;
    if (last !== null && last.deadline === deadline && last.groups.join('\n') === groups.join('\n')) return null;
    const lease: GuardLease = { seq: ++this.guardSeq, deadline, groups };
    this.lastGuard = lease;
    this.unacked.set(lease.seq, lease);
    if (this.unacked.size > MAX_UNACKED_GUARD_LEASES) this.unacked.delete(this.unacked.keys().next().value as number);
    return lease;
  }

  private placedHere(run: GroupRun): boolean {
    return this.view.placedOn(run.group, this.node, run.epoch);
  }

  /** Records the state; reports it while the database places the run here (a report for another placement is refused). */
  private setState(run: GroupRun, r: ResourceRun, state: ResourceState, now: number, reason?: string): void {
    if (r.state === state) return;
    r.state = state;
    if (r.deleted || !this.placedHere(run)) return;
    r.reportedAt = now;
    r.resends = 0;
    this.out.reports.push(this.report(run, r, state, reason ?? null));
  }

  private report(run: GroupRun, r: ResourceRun, state: ResourceState, reason: string | null): NodeActions['reports'][number] {
    return {
      type: 'resourceState.set', resource: r.record.name, state, node: this.node, epoch: run.epoch,
      ...(reason !== null ? { reason } : {}),
    };
  }
}
