// The faults a failover trial injects into the owner of a group on a real
// lab. The trial runner (trials.ts) first puts the group on a node of the
// wanted kind (a follower or the leader) and reads who leads right before
// the fault; a scenario then performs the fault, undoes what it alone knows
// how to undo (SIGCONT, its own cuts, nodes it killed on purpose mid-way)
// and returns what it did. The runner judges the outcome from the observer.
import { writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';
import { signal } from '../../src/lab/processes.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import type { SimRng } from '../sim/rng.js';
import type { Instance } from './history.js';
import type { FailoverLab, FailoverNode } from './lab.js';
import type { Observer } from './observer.js';

export type Kind = 'follower' | 'leader';

export interface FaultContext {
  lab: FailoverLab;
  observer: Observer;
  group: string;
  /** The group's node, read just before the fault. */
  owner: FailoverNode;
  /** The leader and its term, read just before the fault. */
  leader: { node: FailoverNode; term: number };
  rng: SimRng;
}

export interface Fault {
  /** performance.now() when the fault took effect, ms. */
  faultAt: number;
  /** 'move': the group must come up on another node; 'may-stay': it may as well stay where it is. */
  expect: 'move' | 'may-stay';
  /** What was done, each with ms since the fault. */
  actions: string[];
}

export interface Scenario {
  name: string;
  /** Why it cannot run on this lab (an option the CLI lacks, no cgroup v2), or null. */
  unavailable(lab: FailoverLab): Promise<string | null>;
  run(ctx: FaultContext): Promise<Fault>;
}

/** Longest wait for the group to come up elsewhere inside a scenario, ms. */
const MOVE_TIMEOUT_MS = 30_000;
/** Longest wait for a new leader after the old one was cut off, ms. */
const ELECTION_TIMEOUT_MS = 15_000;
/** When a leader's wait for the owner's lease is surely under way, ms after it began (G ≈ 1250 ms with the defaults). */
const MID_WAIT_MS: [number, number] = [300, 600];
/** Latest heal after the cut in heal-mid-move, ms. */
const HEAL_WITHIN_MS = 2000;

/** Timed notes; rendered as ms relative to the fault once it is known. */
class ActionLog {
  private readonly notes: { at: number; text: string }[] = [];

  note(text: string): number {
    const at = performance.now();
    this.notes.push({ at, text });
    return at;
  }

  lines(faultAt: number): string[] {
    return this.notes.map((n) => `${n.at >= faultAt ? '+' : ''}${Math.round(n.at - faultAt)} ms ${n.text}`);
  }
}

const isMajority = (count: number, of: number): boolean => count > of / 2;

/** Once connected: `died` resolves with performance.now() when the process behind `socket` dies (the kernel closes our connection). */
async function watchDeath(socket: string): Promise<{ died: Promise<number> }> {
  const conn = createConnection(socket);
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  conn.on('error', () => undefined);
  // Wrapped: an async function returning a bare promise would wait for it.
  return { died: new Promise((resolve) => conn.once('close', () => resolve(performance.now()))) };
}

/** The group's first instance on a node not in `away`, connected at or after `after` and still active. */
function movedAway(ctx: FaultContext, after: number, away: readonly string[]): Promise<Instance> {
  return ctx.observer.until(`${ctx.group} active on a node other than ${away.join(', ')}`, () => ctx.observer.instances(ctx.group)
    .find((i) => i.connectedAt >= after && !away.includes(i.node) && i.closedAt === null), MOVE_TIMEOUT_MS);
}

function send(log: ActionLog, what: string, record: ProcessIdentity | null, sig: NodeJS.Signals): void {
  if (record === null) {
    log.note(`${sig} ${what}: not running`);
    return;
  }
  log.note(`${sig} ${what} (pid ${record.pid}): ${signal(record, sig)}`);
}

async function mustAgent(lab: FailoverLab, node: FailoverNode): Promise<ProcessIdentity> {
  const agent = await lab.agent(node.name);
  if (agent === null) throw new Error(`${node.name}'s agent is not running`);
  return agent;
}

/** The lab's nodes other than `not`. */
const others = (lab: FailoverLab, ...not: FailoverNode[]): FailoverNode[] => lab.nodes.filter((n) => !not.includes(n));

/** A survivor's agent that says it leads in a term above `aboveTerm`. */
async function newLeaderAmong(lab: FailoverLab, candidates: readonly FailoverNode[], aboveTerm: number): Promise<FailoverNode> {
  const deadline = performance.now() + ELECTION_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const statuses = await lab.statuses();
    const leader = statuses.find((s) => candidates.includes(s.node) && s.status.role === 'leader' && s.status.term > aboveTerm);
    if (leader !== undefined) return leader.node;
    await sleep(20);
  }
  throw new Error(`no new leader among ${candidates.map((n) => n.name).join(', ')} within ${ELECTION_TIMEOUT_MS} ms`);
}

const alwaysAvailable = async (): Promise<null> => null;

const killAgent: Scenario = {
  name: 'kill-agent',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const log = new ActionLog();
    const { died } = await watchDeath(ctx.owner.socket);
    log.note(`fcm lab kill ${ctx.owner.name}`);
    await ctx.lab.fcm(['lab', 'kill', ctx.owner.name]);
    const faultAt = await died;
    log.note('agent gone (its API socket closed)');
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const killAgentMonitor: Scenario = {
  name: 'kill-agent-monitor',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const log = new ActionLog();
    const agent = await mustAgent(ctx.lab, ctx.owner);
    const monitor = ctx.lab.monitor(agent);
    if (monitor === null) throw new Error(`${ctx.owner.name}'s agent (pid ${agent.pid}) has no monitor child`);
    // Back to back: the resource processes are left to the guard.
    send(log, 'agent', agent, 'SIGKILL');
    send(log, 'monitor', monitor, 'SIGKILL');
    const faultAt = performance.now();
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

/** `<cgroup2>/fcm/<nodeId>/cgroup.kill`, or why the node's cgroup cannot be killed. */
async function nodeCgroupKill(node: FailoverNode): Promise<string | { problem: string }> {
  const mount = await findCgroup2Mount();
  if (mount === null) return { problem: 'cgroup v2 is not mounted' };
  const file = join(mount, 'fcm', node.id, 'cgroup.kill');
  return access(file).then(() => file, () => ({ problem: `${file} is missing (no cgroup containment, or a kernel before 5.14)` }));
}

const killNode: Scenario = {
  name: 'kill-node',
  async unavailable(lab) {
    const file = await nodeCgroupKill(lab.nodes[0] as FailoverNode);
    return typeof file === 'string' ? null : file.problem;
  },
  async run(ctx) {
    const log = new ActionLog();
    const cgroupKill = await nodeCgroupKill(ctx.owner);
    if (typeof cgroupKill !== 'string') throw new Error(cgroupKill.problem);
    const agent = await mustAgent(ctx.lab, ctx.owner);
    const monitor = ctx.lab.monitor(agent);
    const guard = ctx.lab.guard(ctx.owner);
    // As close together as a machine losing power: four syscalls in a row, no await between them.
    send(log, 'agent', agent, 'SIGKILL');
    send(log, 'monitor', monitor, 'SIGKILL');
    send(log, 'guard', guard, 'SIGKILL');
    writeFileSync(cgroupKill, '1');
    const faultAt = log.note(`1 > ${cgroupKill}`);
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const stopAgent: Scenario = {
  name: 'stop-agent',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const log = new ActionLog();
    const agent = await mustAgent(ctx.lab, ctx.owner);
    send(log, 'agent', agent, 'SIGSTOP');
    const faultAt = performance.now();
    try {
      await sleep(3 * ctx.lab.leaseMs);
    } finally {
      send(log, 'agent', agent, 'SIGCONT');
    }
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const stopAll: Scenario = {
  name: 'stop-all',
  async unavailable(lab) {
    // Stopping the guard too breaks assumption A2: only a watchdog makes this safe.
    if (!(await lab.supports(['lab', 'up'], '--fencing'))) return 'needs `fcm lab up --fencing watchdog`, and this fcm lab up has no --fencing option';
    if (lab.fencing !== 'watchdog') return `needs a lab started with \`fcm lab up --fencing watchdog\` (this lab's fencing is ${lab.fencing})`;
    return null;
  },
  async run(ctx) {
    const log = new ActionLog();
    const agent = await mustAgent(ctx.lab, ctx.owner);
    const stopped: [string, ProcessIdentity | null][] = [['agent', agent], ['monitor', ctx.lab.monitor(agent)], ['guard', ctx.lab.guard(ctx.owner)]];
    for (const [what, record] of stopped) send(log, what, record, 'SIGSTOP');
    const faultAt = performance.now();
    try {
      await sleep(3 * ctx.lab.leaseMs);
    } finally {
      for (const [what, record] of stopped) send(log, what, record, 'SIGCONT');
    }
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const cutOwner: Scenario = {
  name: 'cut-owner',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const log = new ActionLog();
    await ctx.lab.fcm(['lab', 'cut', ctx.owner.name]);
    const faultAt = log.note(`fcm lab cut ${ctx.owner.name} returned`);
    try {
      const moved = await movedAway(ctx, faultAt, [ctx.owner.name]);
      log.note(`active on ${moved.node}`);
    } finally {
      await ctx.lab.fcm(['lab', 'heal', ctx.owner.name]);
      log.note(`fcm lab heal ${ctx.owner.name} returned`);
    }
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const partialPartition: Scenario = {
  name: 'partial-partition',
  async unavailable(lab) {
    const cut = await lab.supports(['lab', 'cut'], '--from');
    const heal = await lab.supports(['lab', 'heal'], '--from');
    return cut && heal ? null : `needs \`fcm lab cut NODE --from PEER\` and \`fcm lab heal NODE --from PEER\`, and this fcm lab ${cut ? 'heal' : 'cut'} has no --from option`;
  },
  async run(ctx) {
    const log = new ActionLog();
    const ownerLeads = ctx.owner === ctx.leader.node;
    // A follower owner loses only the leader; a leading owner loses one follower and keeps its quorum with the rest.
    const peer = ownerLeads ? ctx.rng.pick(others(ctx.lab, ctx.owner)) : ctx.leader.node;
    await ctx.lab.fcm(['lab', 'cut', ctx.owner.name, '--from', peer.name]);
    const faultAt = log.note(`fcm lab cut ${ctx.owner.name} --from ${peer.name} returned`);
    try {
      if (ownerLeads) {
        // Nothing forces a move: watch for a while (past a lease and a settling period) that nothing goes wrong.
        await sleep(3 * ctx.lab.leaseMs + 1500);
        log.note('watched');
      } else {
        const moved = await movedAway(ctx, faultAt, [ctx.owner.name]);
        log.note(`active on ${moved.node}`);
      }
    } finally {
      await ctx.lab.fcm(['lab', 'heal', ctx.owner.name, '--from', peer.name]);
      log.note(`fcm lab heal ${ctx.owner.name} --from ${peer.name} returned`);
    }
    return { faultAt, expect: ownerLeads ? 'may-stay' : 'move', actions: log.lines(faultAt) };
  },
};

const leaderKilledDuringWait: Scenario = {
  name: 'leader-killed-during-wait',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const { lab, owner } = ctx;
    const log = new ActionLog();
    await lab.fcm(['lab', 'cut', owner.name]);
    const faultAt = log.note(`fcm lab cut ${owner.name} returned`);
    let victim: FailoverNode;
    try {
      if (owner === ctx.leader.node) {
        // The survivors elect a new leader, which then settles for G before placing anything: kill it in that wait.
        victim = await newLeaderAmong(lab, others(lab, owner), ctx.leader.term);
        log.note(`${victim.name} leads`);
      } else {
        // The leader waits out the owner's lease from its last grant, about the moment of the cut.
        victim = ctx.leader.node;
      }
      const waitMs = ctx.rng.int(...MID_WAIT_MS);
      await sleep(waitMs);
      const record = await mustAgent(lab, victim);
      send(log, `${victim.name}'s agent (leader, ${waitMs} ms into its wait)`, record, 'SIGKILL');
      const survivors = others(lab, owner, victim);
      if (!isMajority(survivors.length, lab.nodes.length)) {
        // No quorum left without the owner: the killed leader comes back, and the new leader must not trust the old one's grants.
        await lab.fcm(['lab', 'start', victim.name]);
        log.note(`fcm lab start ${victim.name} returned`);
      }
      const moved = await movedAway(ctx, faultAt, [owner.name]);
      log.note(`active on ${moved.node}`);
      if (isMajority(survivors.length, lab.nodes.length)) {
        await lab.fcm(['lab', 'start', victim.name]);
        log.note(`fcm lab start ${victim.name} returned`);
      }
    } finally {
      await lab.fcm(['lab', 'heal', owner.name]);
      log.note(`fcm lab heal ${owner.name} returned`);
    }
    return { faultAt, expect: 'move', actions: log.lines(faultAt) };
  },
};

const healMidMove: Scenario = {
  name: 'heal-mid-move',
  unavailable: alwaysAvailable,
  async run(ctx) {
    const log = new ActionLog();
    const healAfterMs = ctx.rng.int(0, HEAL_WITHIN_MS);
    await ctx.lab.fcm(['lab', 'cut', ctx.owner.name]);
    const faultAt = log.note(`fcm lab cut ${ctx.owner.name} returned (heal after ${healAfterMs} ms)`);
    try {
      await sleep(healAfterMs);
    } finally {
      await ctx.lab.fcm(['lab', 'heal', ctx.owner.name]);
      log.note(`fcm lab heal ${ctx.owner.name} returned`);
    }
    return { faultAt, expect: 'may-stay', actions: log.lines(faultAt) };
  },
};

export const SCENARIOS: readonly Scenario[] = [
  killAgent, killAgentMonitor, killNode, stopAgent, stopAll, cutOwner, partialPartition, leaderKilledDuringWait, healMidMove,
];

/** The scenarios named (all when `names` is empty); E_INVALID-style error naming the unknown ones. */
export function scenariosNamed(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; there are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => names.includes(s.name));
}
