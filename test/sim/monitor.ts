// The simulated resource monitor of one node: a process apart from the
// agent, so it can be paused on its own. It carries out the controller's
// operations as monitor duties say (controller-io.ts): an online operation
// begun at or after its `notAfter` (on the node's clock) starts nothing.
// A process exists from when its start begins; operations take time, may
// fail (in the safety phase), and a health check notices a dead resource a
// little later.
import type { MonitorEvent, MonitorOp } from '../../src/agent/core/controller-io.js';
import type { ResourceSim } from './resource-sim.js';
import type { SimNode } from './node.js';

interface Running {
  op: MonitorOp;
  /** The process this start began; null before it began. */
  pid: number | null;
  startFails: boolean;
}

export class SimMonitor {
  /** True ms until which the monitor process is paused. */
  pausedUntil = 0;
  private readonly ops = new Map<number, Running>();
  /** Resources whose start succeeded and that no stop has touched since: their health is checked. */
  private readonly watched = new Set<string>();

  constructor(
    private readonly sim: ResourceSim,
    private readonly node: SimNode,
    private readonly life: number,
  ) {}

  receive(op: MonitorOp): void {
    this.ops.set(op.id, { op, pid: null, startFails: false });
    const at = Math.max(this.sim.now, this.pausedUntil) + this.sim.rng.float(0, this.sim.params.opLatencyMaxMs);
    this.sim.schedule(at, { type: 'monitor-begin', node: this.node.id, life: this.life, opId: op.id });
  }

  begin(opId: number): void {
    if (this.deferred({ type: 'monitor-begin', node: this.node.id, life: this.life, opId })) return;
    const run = this.ops.get(opId);
    if (run === undefined) return;
    const { op } = run;
    const sim = this.sim;
    switch (op.kind) {
      case 'online': {
        if (sim.localNow(this.node) >= (op.notAfter ?? Infinity)) {
          this.finish(op, 'expired');
          return;
        }
        const p = sim.world.start(this.node.id, op.group, op.resource, sim.now);
        run.pid = p.pid;
        run.startFails = sim.phase === 'safety' && sim.rng.chance(sim.params.startFailProb);
        sim.processStarted(this.node, this.life, p.pid, op.resource);
        break;
      }
      case 'offline':
        this.watched.delete(op.resource);
        break;
      case 'terminate':
        this.watched.delete(op.resource);
        sim.world.end(this.node.id, op.resource, sim.now);
        this.finish(op, 'ok');
        return;
    }
    const p = sim.params;
    sim.schedule(sim.now + sim.rng.float(p.opMinMs, p.opMaxMs), { type: 'monitor-done', node: this.node.id, life: this.life, opId });
  }

  done(opId: number): void {
    if (this.deferred({ type: 'monitor-done', node: this.node.id, life: this.life, opId })) return;
    const run = this.ops.get(opId);
    if (run === undefined) return;
    const { op } = run;
    const world = this.sim.world;
    if (op.kind === 'online') {
      const alive = run.pid !== null && world.process(this.node.id, op.resource)?.pid === run.pid;
      if (alive && run.startFails) world.end(this.node.id, op.resource, this.sim.now);
      if (alive && !run.startFails) this.watched.add(op.resource);
      this.finish(op, alive && !run.startFails ? 'ok' : 'failed', alive ? 'start failed' : 'died while starting');
    } else if (this.sim.phase === 'safety' && this.sim.rng.chance(this.sim.params.stopFailProb)) {
      this.finish(op, 'failed', 'stop failed');
    } else {
      world.end(this.node.id, op.resource, this.sim.now);
      this.finish(op, 'ok');
    }
  }

  /** A health check on `resource` after its process `pid` died: reported if the monitor was watching it. */
  check(group: string, resource: string): void {
    if (this.deferred({ type: 'health-check', node: this.node.id, life: this.life, group, resource })) return;
    if (!this.watched.has(resource) || this.sim.world.process(this.node.id, resource) !== undefined) return;
    this.watched.delete(resource);
    this.report({ kind: 'failed', group, resource, reason: 'process not running' });
  }

  private finish(op: MonitorOp, outcome: 'ok' | 'failed' | 'expired', reason?: string): void {
    this.ops.delete(op.id);
    this.report({ kind: 'done', id: op.id, outcome, ...(reason !== undefined && outcome !== 'ok' ? { reason } : {}) });
  }

  private report(ev: MonitorEvent): void {
    this.sim.toAgent(this.node, this.life, { from: 'monitor', ev });
  }

  /** While paused, the event waits for the resume. */
  private deferred(ev: Parameters<ResourceSim['schedule']>[1]): boolean {
    if (this.pausedUntil <= this.sim.now) return false;
    this.sim.schedule(this.pausedUntil, ev);
    return true;
  }
}
