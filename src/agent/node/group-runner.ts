// Runs this node's groups: feeds the node controller (core/controller-node.ts)
// the lease holder's changes, the applied database, the resource monitors'
// results and the lease guard's answers, and carries out what it decides.
// The controller, the guard and the monitors share one clock, monotonicMs();
// the lease holder's times (performance.now(), the same CLOCK_MONOTONIC
// counted from this process's start) are converted on the way in by one
// offset, read once so that converted deadlines can only come out early and
// do not jitter (a guard lease is sent again whenever its deadline changes).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../consensus/types.js';
import type { GroupRunStatus, LeaseState } from '../core/controller-node.js';
import { NodeController } from '../core/controller-node.js';
import type { GuardLease, MonitorEvent, MonitorOp, NodeActions, OwnerOrder, ResourceReport } from '../core/controller-io.js';
import type { LeaseTiming } from '../core/lease-config.js';
import type { LeaseChange } from '../core/lease-holder.js';
import type { ClusterDatabase } from '../db/database.js';
import { monotonicMs } from '../guard/clock.js';
import { ResourceMonitors } from '../monitor/monitor-pool.js';
import type { HealthEvent, ResourceSpec } from '../monitor/protocol.js';
import type { OperationResult } from '../types/resource-type.js';
import { failure } from '../types/resource-type.js';
import { guardStateDir } from '../guard/guard-protocol.js';
import { GuardSupervisor } from './guard-supervisor.js';
import type { Logger } from './logger.js';

export interface GroupRunnerOptions {
  nodeId: NodeId;
  stateDir: string;
  timing: LeaseTiming;
  log: Logger;
  /** The lease holder's lease now, local performance.now() ms. */
  holderLease: () => { until: number; guardDeadline: number };
  /** Evidence for the lease holder: no process of the pair can exist. */
  confirmStopped: (pair: { group: string; epoch: number }) => void;
  db: () => ClusterDatabase | null;
  /** Sends a resource state report towards the leader; a lost one is sent again. */
  report: (cmd: ResourceReport) => void;
}

export class GroupRunner {
  readonly guard: GuardSupervisor;
  private readonly controller: NodeController;
  private readonly monitors: ResourceMonitors;
  /** The guard lease acknowledged last (monotonic ms), to notice when the guard's deadline has passed. */
  private acked: GuardLease | null = null;
  /** resource → its last spec: a resource deleted from the database can still be stopped. */
  private readonly specs = new Map<string, ResourceSpec>();
  /** monotonicMs() - performance.now(), ms; performance.now() read second, so it errs small. */
  private readonly clockOffset: number;
  /** The cluster's timing now: λ and K follow property changes, as the lease holder's deadlines do. */
  private timing: LeaseTiming;

  constructor(private readonly options: GroupRunnerOptions) {
    this.timing = options.timing;
    const mono = monotonicMs();
    this.clockOffset = mono - performance.now();
    this.controller = new NodeController({ node: options.nodeId, timing: options.timing });
    this.guard = new GuardSupervisor({
      stateDir: guardStateDir(options.stateDir),
      nodeName: options.nodeId,
      log: options.log,
      onLost: () => {
        this.acked = null;
        this.apply(this.controller.onGuard({ kind: 'expired', deadline: Infinity }, monotonicMs()));
      },
    });
    this.monitors = new ResourceMonitors({ log: options.log, onHealth: (ev) => this.onHealth(ev) });
  }

  /** Starts the lease guard; the monitor starts with the first operation. */
  start(): Promise<void> {
    return this.guard.start();
  }

  /** New cluster properties (λ, K): the guard's deadline is judged by them from now on. */
  setTiming(timing: LeaseTiming): void {
    this.timing = timing;
  }

  /** After every call into the lease holder. */
  onLease(change: LeaseChange): void {
    this.apply(this.controller.onLease(change, this.lease(), monotonicMs()));
  }

  onDatabaseChange(): void {
    const db = this.options.db();
    if (db === null) return;
    const now = monotonicMs();
    this.apply(this.controller.onCommitted({
      placements: db.listPlacements(), resources: db.listResources(), resourceStates: db.listResourceStates(),
      resourceRequests: db.listResourceRequests(),
    }, now));
  }

  onOrder(order: OwnerOrder): void {
    this.apply(this.controller.onOrder(order, monotonicMs()));
  }

  /** Every heartbeat interval. */
  tick(): void {
    const now = monotonicMs();
    const acked = this.acked;
    // The guard acts within λ and kills within K of its deadline (A2): past both, nothing of ours runs.
    if (acked !== null && now >= acked.deadline + this.timing.guardLatencyMs + this.timing.killTimeMs) {
      this.acked = null;
      this.apply(this.controller.onGuard({ kind: 'expired', deadline: acked.deadline }, now));
    }
    this.apply(this.controller.tick(now));
  }

  status(): GroupRunStatus[] {
    return this.controller.status();
  }

  /** Monitors terminate their resources and exit; then the guard kills whatever is left and exits. */
  async stop(): Promise<void> {
    await this.monitors.close();
    await this.guard.stop();
  }

  private lease(): LeaseState {
    const { until, guardDeadline } = this.options.holderLease();
    return { until: until + this.clockOffset, guardDeadline: guardDeadline + this.clockOffset };
  }

  /** The caller's duties of NodeActions, in order. */
  private apply(actions: NodeActions): void {
    if (actions.guard !== null) this.sendGuard(actions.guard);
    for (const op of actions.monitor) void this.operate(op);
    for (const report of actions.reports) this.options.report(report);
    for (const pair of actions.stopped) this.options.confirmStopped(pair);
  }

  private sendGuard(lease: GuardLease): void {
    const client = this.guard.client;
    if (client === null) return;
    // The watchdog's lease end (rule 6) is the earliest lease any listed group runs under, not the
    // holder's newest: a group a grant dropped may still be stopping under the older lease.
    const leaseEnd = lease.deadline + this.timing.guardLatencyMs + this.timing.killTimeMs;
    client.lease(lease.deadline, lease.groups, Number.isFinite(leaseEnd) ? leaseEnd : undefined).then(() => {
      if (this.guard.client !== client) return;
      if (this.acked === null || lease.seq > this.acked.seq) this.acked = lease;
      this.apply(this.controller.onGuard({ kind: 'acked', seq: lease.seq }, monotonicMs()));
    }, (err: unknown) => this.options.log.warn('the lease guard refused a lease', { err, groups: lease.groups }));
  }

  private async operate(op: MonitorOp): Promise<void> {
    let result: OperationResult | 'expired';
    try {
      const spec = await this.spec(op);
      // The guard may kill the group from notAfter on: an online begun later would outlive the lease.
      if (op.kind === 'online' && op.notAfter !== null && monotonicMs() >= op.notAfter) result = 'expired';
      else result = await this.monitors.operate(op.kind, spec);
    } catch (err) {
      result = failure('E_SPEC', err instanceof Error ? err.message : String(err), 'hard');
    }
    if (result !== 'expired' && !result.ok) this.options.log.warn(`resource ${op.kind} failed`, { resource: op.resource, group: op.group, code: result.code, reason: result.message });
    const event: MonitorEvent = result === 'expired' ? { kind: 'done', id: op.id, outcome: 'expired' }
      : result.ok ? { kind: 'done', id: op.id, outcome: 'ok' }
        : { kind: 'done', id: op.id, outcome: 'failed', reason: result.message };
    this.apply(this.controller.onMonitor(event, monotonicMs()));
  }

  /** What the monitor needs to know of the resource; an online gets the group's containment made first. */
  private async spec(op: MonitorOp): Promise<ResourceSpec> {
    const known = this.specs.get(op.resource);
    const db = this.options.db();
    const record = db?.getResource(op.resource);
    const type = record === undefined ? undefined : db?.getResourceType(record.type);
    if (record === undefined || type === undefined) {
      if (known !== undefined && op.kind !== 'online') return known;
      throw new Error(`resource ${op.resource} or its type is not in the database`);
    }
    const containment = this.guard.containment;
    const dir = op.kind === 'online' && containment !== null ? await containment.create(op.group) : known?.containment?.dir ?? null;
    const spec: ResourceSpec = {
      name: record.name,
      group: record.group,
      type: { name: type.name, kind: type.kind, source: type.source },
      parameters: record.parameters,
      deadlines: record.deadlines,
      checkIntervals: record.checkIntervals,
      isolate: record.isolate,
      containment: containment === null || dir === null ? null : { kind: containment.kind, dir },
      outputDir: join(this.options.stateDir, 'resources', record.name),
      undoStateDir: this.guard.containment === null ? null : guardStateDir(this.options.stateDir),
    };
    this.specs.set(record.name, spec);
    return spec;
  }

  private onHealth(ev: HealthEvent): void {
    if (ev.healthy) return;
    const group = this.specs.get(ev.resource)?.group;
    if (group === undefined) return;
    const reason = ev.result.ok ? `health check (${ev.source}) failed` : ev.result.message;
    this.options.log.warn('resource failed', { resource: ev.resource, group, source: ev.source, reason });
    this.apply(this.controller.onMonitor({ kind: 'failed', group, resource: ev.resource, reason }, monotonicMs()));
  }
}
