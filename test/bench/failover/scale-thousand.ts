// 1,000 `process` resources (`sleep 100000`) in 100 groups of 10; in every
// tenth group each resource depends on the one before (a chain of 10, so
// those groups start one resource after the other). Created over the
// leader's API socket with many calls in flight (creation is not the
// metric), then every group brought online at once (all group.online calls
// sent together) and timed from the first call until a follower's
// resource.list shows all 1,000 Online; then offline likewise, until all are
// Offline and the groups' cgroups hold no process. A resource.list of 1,000
// costs the asked agent several ms, so the poller asks a follower (the
// leader is the busiest) and waits POLL_SHARE times as long as the call
// took (50-250 ms) before the next one: it takes at most 1/(1+POLL_SHARE)
// of that agent, and the resolution of the times is that wait.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceState } from '../../../src/agent/db/schema.js';
import { ApiCallError } from '../../../src/client/agent-client.js';
import type { UnixSocketClient } from '../../../src/client/unix-socket-client.js';
import { summarize } from '../stats.js';
import type { Summary } from '../stats.js';

export interface ThousandOptions {
  groups: number;
  perGroup: number;
  /** Every `chainEvery`-th group chains its resources by dependencies. */
  chainEvery: number;
  /** Calls in flight while creating. */
  createInFlight: number;
  /** Longest wait for all Online (or all Offline), ms; past it the count reached is reported. */
  timeoutMs: number;
}

export const THOUSAND: ThousandOptions = { groups: 100, perGroup: 10, chainEvery: 10, createInFlight: 16, timeoutMs: 180_000 };

/** Shortest wait between polls, ms. */
const POLL_MS = 50;
/** The wait after a poll, in multiples of what the poll took. */
const POLL_SHARE = 9;
/** Refusals while leadership moves: the change is sent again RETRY_MS later, for up to RETRY_FOR_MS. */
const TRANSIENT = new Set(['E_TRANSFERRING', 'E_NOT_LEADER', 'E_NO_LEADER_LEASE', 'E_NO_QUORUM', 'E_UNAVAILABLE', 'E_TIMEOUT']);
const RETRY_MS = 50;
const RETRY_FOR_MS = 60_000;

/** Refusals seen by code: each was retried. */
export type Retries = Record<string, number>;

/**
 * A change, sent again while leadership moves. A change sent again may have
 * been committed the first time: E_EXISTS then counts as done.
 */
async function change<T>(send: () => Promise<T>, retries: Retries): Promise<T | 'existed'> {
  const giveUpAt = performance.now() + RETRY_FOR_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (err instanceof ApiCallError && err.code === 'E_EXISTS' && attempt > 1) return 'existed';
      if (!(err instanceof ApiCallError) || !TRANSIENT.has(err.code) || performance.now() > giveUpAt) throw err;
      retries[err.code] = (retries[err.code] ?? 0) + 1;
      await sleep(RETRY_MS);
    }
  }
}

const groupName = (g: number): string => `s${String(g).padStart(3, '0')}`;
const BENCH_GROUP = /^s\d{3}$/;
const resourceName = (g: number, r: number): string => `${groupName(g)}-r${r}`;

export interface Creation {
  groups: number;
  resources: number;
  chainedGroups: number;
  ms: number;
  perSecond: number;
  callMs: Summary;
  retries: Retries;
}

/** Creates the groups and their resources; a group's resources one after the other (a dependency names an existing resource). */
export async function createThousand(clients: UnixSocketClient[], o: ThousandOptions): Promise<Creation> {
  const callMs: number[] = [];
  const retries: Retries = {};
  const timed = async <T>(send: () => Promise<T>): Promise<void> => {
    const t0 = performance.now();
    await change(send, retries);
    callMs.push(performance.now() - t0);
  };
  const start = performance.now();
  let next = 0;
  const worker = async (client: UnixSocketClient): Promise<void> => {
    for (let g = next++; g < o.groups; g = next++) {
      await timed(() => client.call('group.create', { group: groupName(g) }));
      const chained = g % o.chainEvery === 0;
      for (let r = 0; r < o.perGroup; r++) {
        const dependsOn = chained && r > 0 ? { dependsOn: resourceName(g, r - 1) } : {};
        await timed(() => client.call('resource.create', { resource: resourceName(g, r), group: groupName(g), type: 'process', parameters: { command: 'sleep 100000' }, ...dependsOn }));
      }
    }
  };
  await Promise.all(Array.from({ length: o.createInFlight }, (_, i) => worker(clients[i % clients.length] as UnixSocketClient)));
  const ms = performance.now() - start;
  const resources = o.groups * o.perGroup;
  return {
    groups: o.groups,
    resources,
    chainedGroups: Math.ceil(o.groups / o.chainEvery),
    ms: Math.round(ms),
    perSecond: Math.round(((o.groups + resources) / ms) * 1000),
    callMs: summarize(callMs, 1),
    retries,
  };
}

export interface Transition {
  /** First group.online/offline sent → all of them answered (committed), ms. */
  answeredMs: number;
  /** First call sent → the leader's resource.list shows every resource in the target state; null: not within the timeout. */
  allMs: number | null;
  /** First call → the first resource, a quarter, half, three quarters of them in the target state, ms. */
  firstMs: number | null;
  quarterMs: number | null;
  halfMs: number | null;
  threeQuartersMs: number | null;
  reached: number;
  /** What each resource.list call took while polling, ms (the poller's own load on the asked agent). */
  pollCallMs: Summary;
  /**
   * First call → the groups' cgroups hold one process per resource (online)
   * or none (offline), read from cgroup.procs every POLL_MS; null: not
   * within the timeout.
   */
  processesMs: number | null;
  /** Refused calls (group.online/offline, resource.list) by code, each retried: leadership moved meanwhile. */
  retries: Retries;
}

/** Longest wait between polls, ms: one slow answer must not coarsen the times. */
const POLL_MAX_MS = 250;

/**
 * Every group online (or offline) at once; `poller` is asked until all
 * resources are in the target state while `cgroupDirs` are read until they
 * hold one process per resource (none when going offline).
 */
export async function transitionAll(
  clients: UnixSocketClient[], poller: UnixSocketClient, o: ThousandOptions, to: 'online' | 'offline', cgroupDirs: readonly string[],
): Promise<Transition> {
  const target: ResourceState = to === 'online' ? 'Online' : 'Offline';
  const total = o.groups * o.perGroup;
  const method = to === 'online' ? 'group.online' : 'group.offline';
  const start = performance.now();
  const deadline = start + o.timeoutMs;
  const retries: Retries = {};
  const answered = Promise.all(Array.from({ length: o.groups }, (_, g) => change(() => (clients[g % clients.length] as UnixSocketClient).call(method, { group: groupName(g) }), retries)))
    .then(() => performance.now() - start);
  const processes = (async (): Promise<number | null> => {
    const wanted = to === 'online' ? total : 0;
    while (performance.now() < deadline) {
      if ((await processesIn(cgroupDirs)) === wanted) return Math.round(performance.now() - start);
      await sleep(POLL_MS);
    }
    return null;
  })();
  const marks: Record<'first' | 'quarter' | 'half' | 'threeQuarters', number | null> = { first: null, quarter: null, half: null, threeQuarters: null };
  const thresholds = { first: 1, quarter: total / 4, half: total / 2, threeQuarters: (3 * total) / 4 } as const;
  const pollCallMs: number[] = [];
  let reached = 0;
  let allMs: number | null = null;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const list = await poller.call('resource.list', {}).catch((err: unknown) => {
      if (!(err instanceof ApiCallError) || !TRANSIENT.has(err.code)) throw err;
      retries[err.code] = (retries[err.code] ?? 0) + 1;
      return [];
    });
    const t1 = performance.now();
    pollCallMs.push(t1 - t0);
    reached = list.filter((r) => BENCH_GROUP.test(r.group) && r.state === target).length;
    for (const k of Object.keys(marks) as (keyof typeof marks)[]) if (marks[k] === null && reached >= thresholds[k]) marks[k] = Math.round(t1 - start);
    if (reached >= total) {
      allMs = Math.round(t1 - start);
      break;
    }
    await sleep(Math.min(POLL_MAX_MS, Math.max(POLL_MS, POLL_SHARE * (t1 - t0))));
  }
  return {
    answeredMs: Math.round(await answered),
    allMs,
    firstMs: marks.first,
    quarterMs: marks.quarter,
    halfMs: marks.half,
    threeQuartersMs: marks.threeQuarters,
    reached,
    pollCallMs: summarize(pollCallMs, 1),
    processesMs: await processes,
    retries,
  };
}

/** How many processes the cgroup directories hold (a directory that is gone holds none). */
export async function processesIn(dirs: readonly string[]): Promise<number> {
  const counts = await Promise.all(dirs.map(async (d) => (await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length));
  return counts.reduce((s, n) => s + n, 0);
}

/** The benchmark's groups' cgroup directories on every node (<root>/<nodeId>/<group>). */
export function groupCgroupDirs(root: string, nodeIds: readonly string[], o: ThousandOptions): string[] {
  return nodeIds.flatMap((id) => Array.from({ length: o.groups }, (_, g) => join(root, id, groupName(g))));
}

/** How many of the benchmark's groups each node owns, by node name. */
export async function ownersOf(client: UnixSocketClient): Promise<Record<string, number>> {
  const owners: Record<string, number> = {};
  for (const g of await client.call('group.list', {})) {
    if (!BENCH_GROUP.test(g.name)) continue;
    const key = g.owner ?? 'none';
    owners[key] = (owners[key] ?? 0) + 1;
  }
  return owners;
}
