// Restart after a resource's process dies, as a user waits for it: a group
// with one `process` resource (`sleep 100000`) Online; its process is
// SIGKILLed by the pid its group's cgroup lists
// (<cgroup2>/fcm/<nodeId>/<group>/cgroup.procs), then
//   - cgroup.procs is read every 2 ms until it lists another pid: a new
//     process runs (newPidMs);
//   - the owner's resource.show is asked back to back (5 ms apart) until the
//     resource is Failed (failedSeenMs: exit seen, Failed report committed
//     and applied on the owner) and then Online with a `since` after the
//     kill (onlineMs).
// maxRestarts is raised to its limit (100 in 15 min; default 3) so that 30
// trials restart in place instead of failing the group over; `delay` is the
// policy's wait before a restart, which is what the trials compare.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceView } from '../../../src/client/api.js';
import type { UnixSocketClient } from '../../../src/client/unix-socket-client.js';
import type { BenchLab, BenchNode } from '../cluster/bench-lab.js';
import { summarize } from '../stats.js';
import type { Summary } from '../stats.js';

const CGROUP_POLL_MS = 2;
const API_POLL_MS = 5;
/** A trial that has not seen the resource Online again by then failed, ms. */
const TRIAL_TIMEOUT_MS = 20_000;
/** Quiet time between trials, ms: the last restart's reports are committed everywhere. */
const BETWEEN_TRIALS_MS = 300;

export interface RestartTrial {
  node: string;
  /** The owner led the cluster: a follower learns each commit one message later, and the restart order waits for the Failed entry there. */
  ownerLeads: boolean;
  killedPid: number;
  newPid: number;
  /** Kill → another pid in the group's cgroup, ms. */
  newPidMs: number;
  /** Kill → the owner's view shows Failed; null when the poller never saw it (a short Failed). */
  failedSeenMs: number | null;
  /** Kill → the owner's view shows Online again, ms. */
  onlineMs: number;
}

export interface RestartResult {
  /** The group's restart.delay, ms. */
  delayMs: number;
  trials: number;
  newPidMs: Summary;
  failedSeenMs: Summary;
  onlineMs: Summary;
  /** newPidMs - delayMs: what the path costs besides the policy's wait, ms. */
  newPidOverDelayMs: Summary;
  /** onlineMs of the trials whose owner led, and of those whose owner followed. */
  onlineMsOwnerLeads: Summary;
  onlineMsOwnerFollows: Summary;
  samples: RestartTrial[];
}

export interface RestartSetup {
  lab: BenchLab;
  /** Any node's API: changes are carried out by the leader. */
  api: UnixSocketClient;
  /** <cgroup2>/fcm: each node's groups are under <root>/<nodeId>/<group>. */
  cgroupRoot: string;
  nodeIds: Map<string, string>;
}

async function pidsIn(procs: string): Promise<number[]> {
  const text = await readFile(procs, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map(Number);
}

async function onlineView(api: UnixSocketClient, resource: string, timeoutMs: number): Promise<ResourceView> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const view = await api.call('resource.show', { resource });
    if (view.state === 'Online' && view.node !== null) return view;
    if (performance.now() > deadline) throw new Error(`${resource} not Online within ${timeoutMs} ms (state ${view.state})`);
    await sleep(20);
  }
}

async function trial(setup: RestartSetup, owner: BenchNode, group: string, resource: string): Promise<RestartTrial> {
  const procs = join(setup.cgroupRoot, setup.nodeIds.get(owner.name) ?? '?', group, 'cgroup.procs');
  const before = await pidsIn(procs);
  const killedPid = before[0];
  if (before.length !== 1 || killedPid === undefined) throw new Error(`expected one process in ${procs}, found ${before.length}`);
  const watcher = await setup.lab.connect(owner, 5_000);
  try {
    const ownerLeads = (await watcher.call('agent.status', {})).role === 'leader';
    const killedWall = Date.now();
    const killedAt = performance.now();
    process.kill(killedPid, 'SIGKILL');
    const deadline = killedAt + TRIAL_TIMEOUT_MS;
    const newPid = (async (): Promise<{ pid: number; at: number }> => {
      for (;;) {
        const pid = (await pidsIn(procs)).find((p) => p !== killedPid);
        if (pid !== undefined) return { pid, at: performance.now() };
        if (performance.now() > deadline) throw new Error(`no new process in ${procs} within ${TRIAL_TIMEOUT_MS} ms`);
        await sleep(CGROUP_POLL_MS);
      }
    })();
    const states = (async (): Promise<{ failedAt: number | null; onlineAt: number }> => {
      let failedAt: number | null = null;
      for (;;) {
        const view = await watcher.call('resource.show', { resource });
        const now = performance.now();
        if (view.state === 'Failed') failedAt ??= now;
        if (view.state === 'Online' && view.since !== null && view.since >= killedWall) {
          if (view.node !== owner.name) throw new Error(`${resource} came back on ${view.node ?? '?'}, not ${owner.name}: it failed over`);
          return { failedAt, onlineAt: now };
        }
        if (now > deadline) throw new Error(`${resource} not Online again within ${TRIAL_TIMEOUT_MS} ms (state ${view.state})`);
        await sleep(API_POLL_MS);
      }
    })();
    const [started, seen] = await Promise.all([newPid, states]);
    return {
      node: owner.name,
      ownerLeads,
      killedPid,
      newPid: started.pid,
      newPidMs: round(started.at - killedAt),
      failedSeenMs: seen.failedAt === null ? null : round(seen.failedAt - killedAt),
      onlineMs: round(seen.onlineAt - killedAt),
    };
  } finally {
    await watcher.close();
  }
}

const round = (ms: number): number => Number(ms.toFixed(1));

/**
 * `trials` kills of the process of resource `<group>-proc` in a new group
 * `group` whose restart.delay is `delay` (undefined: the default), placed on
 * `owner` (its preferred owner); the group is taken offline afterwards.
 */
export async function restartLatency(setup: RestartSetup, group: string, trials: number, delay: string | undefined, owner: BenchNode): Promise<RestartResult> {
  const { api, lab } = setup;
  const resource = `${group}-proc`;
  const restart = { maxRestarts: 100, ...(delay === undefined ? {} : { delay }) };
  const created = await api.call('group.create', { group, settings: { restart, preferredOwners: [owner.name] } });
  await api.call('resource.create', { resource, group, type: 'process', parameters: { command: 'sleep 100000' } });
  await api.call('group.online', { group });
  const samples: RestartTrial[] = [];
  try {
    let view = await onlineView(api, resource, 30_000);
    for (let t = 1; t <= trials; t++) {
      await sleep(BETWEEN_TRIALS_MS);
      const sample = await trial(setup, lab.node(view.node as string), group, resource);
      samples.push(sample);
      process.stderr.write(`scale: restart ${group} ${t}/${trials}: new pid after ${sample.newPidMs} ms, Online after ${sample.onlineMs} ms\n`);
      view = await onlineView(api, resource, 5_000);
    }
  } finally {
    await api.call('group.offline', { group });
  }
  const delayMs = created.group.restart.delay;
  return {
    delayMs,
    trials,
    newPidMs: summarize(samples.map((s) => s.newPidMs), 1),
    failedSeenMs: summarize(samples.flatMap((s) => (s.failedSeenMs === null ? [] : [s.failedSeenMs])), 1),
    onlineMs: summarize(samples.map((s) => s.onlineMs), 1),
    newPidOverDelayMs: summarize(samples.map((s) => s.newPidMs - delayMs), 1),
    onlineMsOwnerLeads: summarize(samples.filter((s) => s.ownerLeads).map((s) => s.onlineMs), 1),
    onlineMsOwnerFollows: summarize(samples.filter((s) => !s.ownerLeads).map((s) => s.onlineMs), 1),
    samples,
  };
}
