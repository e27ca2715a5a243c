// The simulated administrator of a resource run: through whichever node
// leads, it enters the configuration (nodes, groups, resources with their
// dependencies) and asks for every group to be online. It asks each new
// leader once more for groups it finds placed nowhere (a leader's planner
// starts with no memory of moves in progress). During the safety phase it
// takes resources offline and online, fails them and cleans groups up; when
// the liveness phase begins it wants every resource online and cleans every
// group up, as an operator would after an outage.
import type { LeaderController } from '../../src/agent/core/controller-leader.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import type { SimAgent } from './agent.js';
import type { Committed, ResourceSim } from './resource-sim.js';

/** True ms between repeats of configuration commands not yet applied. */
const SETUP_RETRY_MS = 500;
/** Audit records the simulated database keeps (the default keeps 10,000). */
const HISTORY_LIMIT = 50;

export class SimAdmin {
  private proposedAt = -Infinity;
  /** True ms of the next operation. */
  private nextOpAt: number;
  /** What each leader was already asked: `online:<group>@<epoch>`, `cleanup`. */
  private readonly asked = new WeakMap<LeaderController, Set<string>>();

  constructor(
    private readonly sim: ResourceSim,
    private readonly nodes: readonly string[],
  ) {
    this.nextOpAt = sim.rng.exp(sim.params.adminOpEveryMs);
  }

  /** Called on each plan of a leader, before it plans. */
  leading(agent: SimAgent, ctl: LeaderController, committed: Committed): void {
    const sim = this.sim;
    // Only what the leader's applied state lacks with nothing of its log in
    // flight is missing: a repeat while the first is on its way would only
    // lengthen the log a slow link must carry.
    const st = agent.node.raft?.status();
    const settled = st !== undefined && agent.node.appliedIndex >= st.lastIndex;
    const setup = settled ? this.missing(committed) : [];
    if (sim.phase === 'safety' && sim.now >= this.nextOpAt && setup.length === 0) {
      this.nextOpAt = sim.now + sim.rng.exp(sim.params.adminOpEveryMs);
      this.operate(agent);
    }
    if (setup.length > 0 && sim.now - this.proposedAt >= SETUP_RETRY_MS) {
      this.proposedAt = sim.now;
      sim.propose(agent.node, setup);
    }
    let asked = this.asked.get(ctl);
    if (asked === undefined) this.asked.set(ctl, (asked = new Set()));
    if (sim.phase === 'liveness' && !asked.has('cleanup') && committed.groups.length === sim.params.groups.length) {
      asked.add('cleanup');
      for (const g of committed.groups) ctl.intend({ kind: 'cleanup', group: g.name });
      sim.trace(agent.node.id, `admin: cleanup ${committed.groups.map((g) => g.name).join(',')}`);
    }
    for (const g of committed.groups) {
      const p = committed.placements.find((x) => x.group === g.name);
      if (p !== undefined && p.node !== null) continue;
      const key = `online:${g.name}@${p?.epoch ?? 0}`;
      if (asked.has(key)) continue;
      asked.add(key);
      ctl.intend({ kind: 'online', group: g.name });
      sim.trace(agent.node.id, `admin: online ${g.name}`);
    }
  }

  /** One operation on a random resource or group. */
  private operate(agent: SimAgent): void {
    const sim = this.sim;
    const r = sim.rng.pick(sim.params.groups.flatMap((g) => g.resources)).name;
    const kind = sim.rng.weighted({ offline: 2, online: 3, fail: 3, cleanup: 1 });
    const group = sim.params.groups.find((g) => g.resources.some((x) => x.name === r))?.name ?? '';
    const cmd: ClusterCommand = kind === 'offline' ? { type: 'resource.offline', name: r }
      : kind === 'online' ? { type: 'resource.online', name: r }
      : kind === 'fail' ? { type: 'resource.fail', name: r }
      : { type: 'group.cleanup', name: group };
    sim.propose(agent.node, [cmd]);
  }

  /** The configuration commands whose effect the applied state does not show yet, in an order that applies. */
  private missing(c: Committed): ClusterCommand[] {
    const p = this.sim.params;
    const out: ClusterCommand[] = [];
    if (c.groups.length < p.groups.length) out.push({ type: 'property.set', values: { historyLimit: HISTORY_LIMIT } });
    // After the safety phase, every resource is wanted online again.
    if (this.sim.phase !== 'safety') {
      for (const q of c.resourceRequests ?? []) if (q.desired === 'offline') out.push({ type: 'resource.online', name: q.resource });
    }
    this.nodes.forEach((id, i) => {
      if (c.nodes.some((x) => x.id === id)) return;
      const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${id.padStart(16, 'x')}`;
      out.push({ type: 'node.add', id, name: id, address: `10.0.0.${i + 1}:2222`, hostKey: key, incarnation: this.sim.incarnationOf(id) });
    });
    for (const g of p.groups) {
      if (!c.groups.some((x) => x.name === g.name)) {
        out.push({
          type: 'group.create',
          name: g.name,
          settings: {
            priority: g.priority,
            possibleOwners: g.possibleOwners,
            failoverThreshold: p.failoverThreshold,
            failoverPeriod: 3_600_000,
            restart: { maxRestarts: p.maxRestarts, period: 3_600_000, delay: p.restartDelayMs },
          },
        });
      }
      for (const r of g.resources) {
        if (c.resources.some((x) => x.name === r.name)) continue;
        out.push({
          type: 'resource.create', name: r.name, group: g.name, resourceType: 'process',
          parameters: { command: `/usr/bin/sleep-${r.name}` }, ...(r.dependsOn !== '' ? { dependsOn: r.dependsOn } : {}),
        });
      }
    }
    return out;
  }
}
