// The liveness phase: faults stop, the network heals for a set of nodes
// that is a majority of every configuration that could be in force (the
// committed one and any later one in some log) and holds a voter that can
// win an election there (a majority of its configuration within the set
// has logs no more up to date than its own), the crashed nodes of that set
// restart, and everything else stays cut off. Within LIVENESS_BOUND_MS
// the cluster must elect a leader that serves a linearizable read of every
// key; those reads join the client history, so every acknowledged write
// must be visible in them.
import type { Entry, Membership, NodeId } from '../../src/agent/consensus/types.js';
import type { Violation } from './checkers/violation.js';
import { FINAL_CLIENT } from './clients.js';
import { LIVENESS_BOUND_MS } from './params.js';
import type { SimRng } from './rng.js';
import type { World } from './world.js';

export class Liveness {
  private healed: Set<NodeId> | null = null;

  constructor(
    private readonly world: World,
    private readonly rng: SimRng,
  ) {}

  begin(): void {
    const w = this.world;
    const configs = this.possibleConfigs();
    const voterSets = configs.map((m) => m.members.filter((x) => x.role === 'voter').map((x) => x.id)).filter((vs) => vs.length > 0);
    const healed = new Set<NodeId>();
    for (const m of configs) for (const x of m.members) if (w.nodes.get(x.id)?.retired === false) healed.add(x.id);
    const majorityEverywhere = (): boolean =>
      voterSets.every((vs) => vs.filter((id) => healed.has(id)).length >= Math.floor(vs.length / 2) + 1);
    const logs = new Map([...healed].map((id) => [id, this.logSummary(id)]));
    for (const id of this.rng.shuffle([...healed])) {
      if (!this.rng.chance(0.4)) continue;
      healed.delete(id);
      if (!majorityEverywhere() || !canElect(healed, logs)) healed.add(id);
    }
    this.healed = healed;
    w.network.healFor(healed, [...w.nodes.keys()]);
    w.trace('sim', `liveness phase: healed ${[...healed].join(',')}; configs ${voterSets.map((v) => `{${v.join(',')}}`).join(' ')}`);
    for (const id of healed) {
      const node = w.nodes.get(id);
      if (node !== undefined && !node.up) w.restart(node);
    }
  }

  /** The nodes healed for the liveness phase (empty before it). */
  healedSet(): ReadonlySet<NodeId> {
    return this.healed ?? new Set();
  }

  mayRestart(id: NodeId): boolean {
    return this.healed === null || this.healed.has(id);
  }

  /** Starts the final reads still missing; true once every key was read. */
  finalReads(): boolean {
    const w = this.world;
    let done = true;
    for (const key of w.clients.keyNames()) {
      if (w.clients.completedReads(FINAL_CLIENT, key) > 0) continue;
      done = false;
      if (w.clients.pendingFor(FINAL_CLIENT, key)) continue;
      const leader = w.leaderGuess();
      if (leader !== null && this.healed?.has(leader.id) && w.available(leader)) w.clients.read(FINAL_CLIENT, leader, key);
    }
    return done;
  }

  timeoutViolation(): Violation {
    const w = this.world;
    const states = [...(this.healed ?? [])].map((id) => {
      const st = w.nodes.get(id)?.raft?.status();
      return st === undefined ? `${id}:down` : `${id}:${st.role}/t${st.term}/c${st.commitIndex}/a${st.appliedIndex}/l${st.lastIndex}`;
    });
    const missing = w.clients.keyNames().filter((k) => w.clients.completedReads(FINAL_CLIENT, k) === 0);
    const stuck = w.resources?.stuckGroups(this.healedSet()) ?? [];
    const what = [
      ...(missing.length > 0 ? [`no leader served reads of ${missing.join(',')}`] : []),
      ...(stuck.length > 0 ? [`groups not running whole on a healed node: ${stuck.join(' ')}`] : []),
    ];
    return {
      checker: 'liveness',
      at: w.now,
      detail: `${what.join('; ')} within ${LIVENESS_BOUND_MS} ms of healing; ${states.join(' ')}`,
    };
  }

  /** The log a node has now, or will restart with. */
  private logSummary(id: NodeId): LogSummary {
    const node = this.world.nodes.get(id);
    if (node === undefined) return { lastIndex: 0, lastTerm: 0, membership: { members: [] } };
    const store = node.up ? node.disk.current() : node.disk.restore();
    const last: Entry | undefined = store.entries[store.entries.length - 1];
    let membership = store.snapshot?.meta.membership ?? node.bootstrap ?? { members: [] };
    for (const e of store.entries) if (e.kind === 'config') membership = JSON.parse(e.data) as Membership;
    const snapIndex = store.snapshot?.meta.index ?? 0;
    const emptyBootstrap = last === undefined && snapIndex === 0 && node.bootstrap !== undefined;
    return {
      lastIndex: last?.index ?? (emptyBootstrap ? 1 : snapIndex),
      lastTerm: last?.term ?? (emptyBootstrap ? 1 : (store.snapshot?.meta.term ?? 0)),
      membership,
    };
  }

  /** The committed configuration and every later one found in some node's log. */
  private possibleConfigs(): Membership[] {
    const w = this.world;
    const configs: Membership[] = [w.membership.committedMembership];
    const seen = new Set<string>([JSON.stringify(w.membership.committedMembership)]);
    for (const node of w.nodes.values()) {
      if (node.retired) continue;
      for (const e of node.disk.current().entries) {
        if (e.kind !== 'config' || e.index <= w.membership.committedIndex || seen.has(e.data)) continue;
        seen.add(e.data);
        configs.push(JSON.parse(e.data) as Membership);
      }
    }
    return configs;
  }
}

interface LogSummary {
  lastIndex: number;
  lastTerm: number;
  /** The latest configuration in the log: the one the node acts on. */
  membership: Membership;
}

/** Some voter in `healed` would get the votes of a majority of its configuration from nodes in `healed`. */
function canElect(healed: ReadonlySet<NodeId>, logs: ReadonlyMap<NodeId, LogSummary>): boolean {
  for (const id of healed) {
    const c = logs.get(id);
    if (c === undefined) continue;
    const voters = c.membership.members.filter((m) => m.role === 'voter').map((m) => m.id);
    if (!voters.includes(id)) continue;
    const grants = voters.filter((v) => {
      const l = logs.get(v);
      return healed.has(v) && l !== undefined && (c.lastTerm > l.lastTerm || (c.lastTerm === l.lastTerm && c.lastIndex >= l.lastIndex));
    });
    if (grants.length >= Math.floor(voters.length / 2) + 1) return true;
  }
  return false;
}
