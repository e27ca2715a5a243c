// The simulated lease guard of one node (rule 5), as the real one behaves
// (src/agent/guard/guard.ts): a lease message replaces the deadline and
// the group list, a group left out is killed at once, and at the deadline
// every group's processes die. The deadline is read on the node's clock;
// the guard acts within λ of it (A2: a paused guard still acts by then) and
// the kill takes up to K; meanwhile it handles no message.
import type { GuardLease } from '../../src/agent/core/controller-io.js';
import type { ResourceSim } from './resource-sim.js';
import type { SimNode } from './node.js';

export class SimGuard {
  /** True ms until which the guard process is paused (at most λ at a time). */
  pausedUntil = 0;
  /** True ms until which a kill is in progress. */
  private busyUntil = 0;
  /** Local ms of the deadline held; null when none. */
  private deadline: number | null = null;
  private groups: string[] = [];
  /** Bumped by every new deadline, so an earlier deadline's timer is void. */
  private gen = 0;

  constructor(
    private readonly sim: ResourceSim,
    private readonly node: SimNode,
    private readonly life: number,
  ) {}

  receive(lease: GuardLease): void {
    this.sim.schedule(this.sim.now, { type: 'guard-lease', node: this.node.id, life: this.life, lease });
  }

  onLease(lease: GuardLease): void {
    const sim = this.sim;
    const wait = Math.max(this.pausedUntil, this.busyUntil);
    if (wait > sim.now) {
      sim.schedule(wait, { type: 'guard-lease', node: this.node.id, life: this.life, lease });
      return;
    }
    for (const group of this.groups) {
      if (!lease.groups.includes(group)) this.startKill(group, null);
    }
    this.groups = [...lease.groups];
    this.deadline = lease.deadline;
    this.gen++;
    const { guardLatencyMs } = sim.params.timing;
    const fireLocal = lease.deadline + (sim.params.guardWorstCase ? guardLatencyMs : sim.rng.float(0, guardLatencyMs));
    sim.schedule(Math.max(sim.now, this.node.clock.trueNotBefore(fireLocal)), { type: 'guard-fire', node: this.node.id, life: this.life, gen: this.gen });
    sim.toAgent(this.node, this.life, { from: 'guard', ev: { kind: 'acked', seq: lease.seq } });
  }

  fire(gen: number): void {
    const sim = this.sim;
    if (gen !== this.gen || this.deadline === null) return;
    if (this.pausedUntil > sim.now) {
      // A2: however the guard is held up, it acts within λ of its deadline.
      const latest = this.node.clock.trueNotBefore(this.deadline + sim.params.timing.guardLatencyMs);
      const at = Math.min(this.pausedUntil, latest);
      if (at > sim.now) {
        sim.schedule(at, { type: 'guard-fire', node: this.node.id, life: this.life, gen });
        return;
      }
    }
    const deadline = this.deadline;
    this.deadline = null;
    this.groups = [];
    this.gen++;
    this.startKill(null, deadline);
  }

  /** Kills `group` (null: every group); it is done within K. `deadline`: the deadline that fired, if any. */
  private startKill(group: string | null, deadline: number | null): void {
    const sim = this.sim;
    const k = sim.params.timing.killTimeMs;
    const doneLocal = sim.localNow(this.node) + (sim.params.guardWorstCase ? k : sim.rng.float(0, k));
    const at = Math.max(sim.now, this.node.clock.trueNotBefore(doneLocal));
    this.busyUntil = Math.max(this.busyUntil, at);
    sim.schedule(at, { type: 'guard-killed', node: this.node.id, life: this.life, group, deadline });
  }

  killed(group: string | null, deadline: number | null): void {
    const sim = this.sim;
    const n = sim.world.kill(this.node.id, group, sim.now);
    if (sim.tracing) sim.trace(this.node.id, `guard killed ${group ?? 'every group'} (${n} processes)${deadline !== null ? ` at deadline ${deadline.toFixed(3)}` : ''}`);
    const ev = deadline !== null ? { kind: 'expired' as const, deadline } : { kind: 'killed' as const, group: group ?? '' };
    sim.toAgent(this.node, this.life, { from: 'guard', ev });
  }
}
