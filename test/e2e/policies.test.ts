// The group policies on a real 3-node lab (fcm lab up), driven with the
// built CLI as a user would: restarts in place until they are used up, then
// failover (or Failed where it is, for a resource that must not move its
// group); the failover threshold, past which a group is held Failed until
// `group cleanup` or, by itself, the end of its failoverRetry period; operations that hang, terminated at their deadlines while
// the agent keeps serving; and move, drain, resume with each --failback, and
// failback after a crash. Restarts and failovers are counted from the audit
// history (fcm config history), not from timing. Failing resources take a
// token each (mkdir, atomic): a resource fails exactly as often as the test
// says, whichever node runs it. The lab is taken down at the end and must
// leave no process (agents, guards, monitors, resources) and no cgroup.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GroupView } from '../../src/client/api.js';
import type { AuditRecord } from '../../src/agent/db/audit.js';
import { closeTestLab, eventually, fcm, fcmError, fcmJson, openTestLab, processesMentioning } from './helpers.js';
import type { TestLab } from './helpers.js';

let testLab: TestLab<unknown>;
let tmp = '';
let env: NodeJS.ProcessEnv = {};
/** node id → name, and the ids (each node's guard keeps its groups' cgroups under <cgroup2>/fcm/<id>). */
const names = new Map<string, string>();
/** In the command line of every process a resource here runs (`sleep 1000.<token>`), so none may be left. */
const TOKEN = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
/** ms a group is watched to show that it stays where it is: many planner rounds (one per heartbeat, 100 ms). */
const STAYS_MS = 2000;

const ok = (...args: string[]): string => {
  const run = fcm(env, args, 90_000);
  assert.equal(run.status, 0, `fcm ${args.join(' ')}: ${run.out}${run.err}`);
  return run.out;
};
const group = (name: string): GroupView => fcmJson<GroupView>(env, ['group', 'show', name]);
const owners = (...groups: string[]): (string | null)[] => groups.map((g) => group(g).owner);

before(async () => {
  testLab = await openTestLab<unknown>('policies');
  ({ tmp, env } = testLab);
  for (const n of fcmJson<{ nodes: { id: string; name: string }[] }>(env, ['status']).nodes) names.set(n.id, n.name);
  assert.equal(names.size, 3);
  // Fails (exit 1 after 200 ms) while tokens are left in DIR (the first argument): each failure takes one.
  await writeFile(join(tmp, 'flaky.sh'), [
    'i=1',
    'while [ "$i" -le "$2" ]; do',
    '  if mkdir "$1/token.$i" 2>/dev/null; then sleep 0.2; exit 1; fi',
    '  i=$((i + 1))',
    'done',
    `exec sleep 1000.${TOKEN}`,
    '',
  ].join('\n'));
});

after(() => closeTestLab(testLab, { marks: [`1000.${TOKEN}`], nodeIds: names.keys(), leftMessage: 'no lab or resource process is left' }));

/** A `process` resource of `g` that fails `failures` times in all (on whichever nodes run it), then runs. */
async function flaky(resource: string, g: string, failures: number): Promise<void> {
  const tokens = join(tmp, `tokens-${resource}`);
  await mkdir(tokens);
  ok('resource', 'create', resource, '--group', g, '--type', 'process', `command=sh ${join(tmp, 'flaky.sh')} ${tokens} ${failures}`);
}

/**
 * The group's placements on nodes, in order, from the audit history, each
 * with the starts (reports of OnlinePending) and failures of `resource` there.
 */
function placements(g: string, resource: string): { node: string; starts: number; failures: number }[] {
  const out: { node: string; starts: number; failures: number }[] = [];
  for (const r of fcmJson<AuditRecord[]>(env, ['config', 'history', '--limit', '100000'])) {
    if (r.result !== 'applied') continue;
    const last = out.at(-1);
    if (r.summary.startsWith(`placement.set ${g} → `)) {
      const to = r.summary.slice(`placement.set ${g} → `.length);
      if (to !== 'nowhere') out.push({ node: names.get(to) ?? to, starts: 0, failures: 0 });
    } else if (last !== undefined && r.summary === `resourceState.set ${resource} → OnlinePending`) last.starts++;
    else if (last !== undefined && r.summary === `resourceState.set ${resource} → Failed`) last.failures++;
  }
  return out;
}

/** The group, once it is Online (every resource Online) on a node `where` accepts. */
function onlineOn(g: string, where: (owner: string) => boolean, ms = 30_000): Promise<GroupView> {
  return eventually(`group ${g} Online on the right node`, () => {
    const v = group(g);
    return v.state === 'Online' && v.owner !== null && where(v.owner) && v.resources.every((r) => r.state === 'Online') ? v : undefined;
  }, ms, 100);
}

/**
 * The group Failed with its resource Failed once `settled` holds (the
 * failures expected have happened); then it stays so, in the same
 * placement, while the planner runs many rounds.
 */
async function staysFailed(g: string, settled: (v: GroupView) => boolean): Promise<GroupView> {
  const failed = await eventually(`group ${g} Failed for good`, () => {
    const v = group(g);
    return v.state === 'Failed' && v.resources.some((r) => r.state === 'Failed') && settled(v) ? v : undefined;
  }, 30_000, 100);
  await sleep(STAYS_MS);
  const later = group(g);
  assert.deepEqual([later.state, later.owner, later.epoch], ['Failed', failed.owner, failed.epoch], `group ${g} stays Failed where it is`);
  return later;
}

test('restarts used up: restarted in place N times, then the group fails over; with failGroupOver=false it stays Failed on its node', async () => {
  const N = 2;
  ok('group', 'create', 'rs', '--preferred', 'node1,node2,node3', `restart.maxRestarts=${N}`, 'restart.period=10m', 'restart.delay=0s');
  await flaky('rs-app', 'rs', N + 1);
  ok('group', 'online', 'rs', '--no-wait');
  const moved = await onlineOn('rs', (owner) => owner !== 'node1');
  const rs = placements('rs', 'rs-app');
  assert.deepEqual(rs, [{ node: 'node1', starts: N + 1, failures: N + 1 }, { node: moved.owner ?? '', starts: 1, failures: 0 }],
    'N restarts in place after the first failure, then one failover');

  ok('group', 'create', 'stay', '--preferred', 'node1,node2,node3', `restart.maxRestarts=${N}`, 'restart.period=10m', 'restart.delay=0s', 'restart.failGroupOver=false');
  await flaky('stay-app', 'stay', N + 1);
  ok('group', 'online', 'stay', '--no-wait');
  const failed = await staysFailed('stay', () => placements('stay', 'stay-app').at(-1)?.failures === N + 1);
  assert.equal(failed.owner, 'node1');
  assert.deepEqual([failed.resources[0]?.state, failed.resources[0]?.node], ['Failed', 'node1']);
  assert.deepEqual(placements('stay', 'stay-app'), [{ node: 'node1', starts: N + 1, failures: N + 1 }], 'never placed elsewhere');
  ok('resource', 'cleanup', 'stay-app');
  await onlineOn('stay', (owner) => owner === 'node1');
  assert.equal(placements('stay', 'stay-app').length, 1, 'cleaned up, it started again where it was');
  ok('group', 'offline', 'rs');
  ok('group', 'offline', 'stay');
});

test('failover threshold used up: the group is held Failed after K failovers; group cleanup brings it back Online', async () => {
  const K = 2;
  ok('group', 'create', 'thr', '--preferred', 'node1,node2,node3', 'restart.maxRestarts=0', `failoverThreshold=${K}`, 'failoverPeriod=1h');
  await flaky('thr-app', 'thr', K + 1);
  ok('group', 'online', 'thr', '--no-wait');
  const held = await staysFailed('thr', () => placements('thr', 'thr-app').length === K + 1 && placements('thr', 'thr-app').at(-1)?.failures === 1);
  const tried = placements('thr', 'thr-app');
  assert.equal(tried.length, K + 1, `the first placement and ${K} failovers: ${JSON.stringify(tried)}`);
  assert.ok(tried.every((p) => p.starts === 1 && p.failures === 1), JSON.stringify(tried));
  for (let i = 1; i < tried.length; i++) assert.notEqual(tried[i]?.node, tried[i - 1]?.node, 'each failover goes to another node');
  assert.equal(held.owner, tried.at(-1)?.node, 'held where it failed last');
  // Its tokens are used up: started afresh, it runs.
  ok('group', 'cleanup', 'thr');
  await onlineOn('thr', () => true);
  ok('group', 'offline', 'thr');
});

test('hung operations: a health check and a start past their deadlines are killed; the resource is Failed per policy; the agent keeps serving', async () => {
  const hang = join(tmp, 'hang');
  const probe = join(tmp, 'probe.sh');
  const hungProbe = `1000.${TOKEN}2`;
  // Passes at once, or hangs while the file `hang` exists.
  await writeFile(probe, `if [ -e ${hang} ]; then exec sleep ${hungProbe}; fi\nexit 0\n`);
  ok('group', 'create', 'hang', '--preferred', 'node2', 'restart.maxRestarts=1', 'restart.delay=0s', 'restart.failGroupOver=false');
  ok('resource', 'create', 'hung', '--group', 'hang', '--type', 'process', `command=sleep 1000.${TOKEN}1`, `probe=command:sh ${probe}`,
    'probeLevel=quick', 'probeTimeout=1h', 'deadlines.start=2s', 'deadlines.quickCheck=1s', 'deadlines.thoroughCheck=1s', 'checkIntervals.quick=500ms');
  ok('group', 'online', 'hang');
  assert.equal(group('hang').owner, 'node2');

  await writeFile(hang, '');
  // The first hanging probe (of a health check), seen while it hangs; it must be gone at its deadline.
  const [firstHung] = await eventually('a hanging probe', () => {
    const pids = processesMentioning(hungProbe);
    return pids.length > 0 ? pids : undefined;
  }, 20_000);
  const failed = await staysFailed('hang', (v) => /online did not finish within its deadline/.test(v.resources[0]?.reason ?? ''));
  assert.equal(failed.owner, 'node2', 'failGroupOver=false: Failed where it is');
  const tried = placements('hang', 'hung');
  assert.deepEqual(tried, [{ node: 'node2', starts: 2, failures: 2 }], 'failed by its health check, restarted once, failed by its start');
  assert.equal(await stat(`/proc/${firstHung}`).then(() => true, () => false), false, 'the hung health check\'s probe was killed');
  assert.deepEqual(processesMentioning(`1000.${TOKEN}`), [], 'nothing of the resource runs: probes and process killed at the deadline');

  // node2's agent still serves: it runs another group, and the failed one comes back after cleanup.
  ok('group', 'create', 'alive', '--preferred', 'node2');
  ok('resource', 'create', 'alive-app', '--group', 'alive', '--type', 'process', `command=sleep 1000.${TOKEN}3`);
  ok('group', 'online', 'alive');
  assert.deepEqual([group('alive').state, group('alive').owner], ['Online', 'node2']);
  await rm(hang);
  ok('resource', 'cleanup', 'hung');
  await onlineOn('hang', (owner) => owner === 'node2');
  ok('group', 'offline', 'hang');
  ok('group', 'offline', 'alive');
});

test('move, drain, resume --failback never|policy|now, and failback=immediate after a crash', async () => {
  const hour = new Date().getHours();
  // Windows two hours long, so that the hour turning during the test changes neither.
  const open = `${hour}-${(hour + 2) % 24}`;
  const shut = `${(hour + 2) % 24}-${(hour + 4) % 24}`;
  const settings: Record<string, string[]> = {
    'fb-imm': ['failback=immediate'],
    'fb-nev': ['failback=never'],
    'fb-win': ['failback=window', `failbackWindow=${open}`],
    'fb-shut': ['failback=window', `failbackWindow=${shut}`],
  };
  const all = Object.keys(settings);
  for (const [g, extra] of Object.entries(settings)) {
    ok('group', 'create', g, '--preferred', 'node1,node2', ...extra);
    ok('resource', 'create', `${g}-app`, '--group', g, '--type', 'process', `command=sleep 1000.${TOKEN}`);
    ok('group', 'online', g);
  }
  assert.deepEqual(owners(...all), ['node1', 'node1', 'node1', 'node1']);
  // A group that prefers no node: moved onto node1 as a barrier, it shows that node1 takes groups and the leader has planned since.
  ok('group', 'create', 'probe');
  ok('resource', 'create', 'probe-app', '--group', 'probe', '--type', 'process', `command=sleep 1000.${TOKEN}`);
  ok('group', 'online', 'probe');

  ok('group', 'move', 'fb-nev', '--to', 'node3');
  assert.deepEqual([group('fb-nev').state, group('fb-nev').owner], ['Online', 'node3']);
  ok('group', 'move', 'fb-nev', '--to', 'node1');
  assert.equal(group('fb-nev').owner, 'node1');

  /** Pause node1 with --drain: every group leaves it, Online elsewhere, and no group can be placed there. */
  const drain = async (): Promise<void> => {
    ok('node', 'pause', 'node1', '--drain');
    for (const g of [...all, 'probe']) await onlineOn(g, (owner) => owner !== 'node1');
    const refused = fcmError(env, ['group', 'move', 'probe', '--to', 'node1']);
    assert.deepEqual([refused.status, refused.code], [4, 'E_NODE_PAUSED']);
  };
  /** After the resume, `back` fail back to node1; the barrier shows the leader placed on node1 since, and the others stayed. */
  const resume = async (failback: string, back: string[]): Promise<void> => {
    ok('node', 'resume', 'node1', '--failback', failback);
    for (const g of back) await onlineOn(g, (owner) => owner === 'node1');
    ok('group', 'move', 'probe', '--to', 'node1');
    const stayed = all.filter((g) => !back.includes(g));
    assert.deepEqual(owners(...stayed).filter((o) => o === 'node1'), [], `--failback ${failback}: ${stayed.join(', ')} stay away`);
  };
  await drain();
  await resume('never', []);
  await drain();
  await resume('policy', ['fb-imm', 'fb-win']);
  await drain();
  await resume('now', all);

  // A crash of the preferred owner: everything fails over; back up, only failback=immediate (and the open window) return.
  ok('group', 'move', 'fb-nev', '--to', 'node2');
  ok('group', 'move', 'fb-shut', '--to', 'node2');
  ok('lab', 'kill', 'node1');
  for (const g of [...all, 'probe']) await onlineOn(g, (owner) => owner !== 'node1');
  ok('lab', 'start', 'node1');
  await onlineOn('fb-imm', (owner) => owner === 'node1');
  await onlineOn('fb-win', (owner) => owner === 'node1');
  await eventually('the probe group on node1 again', () => {
    // The move is refused while node1 is not yet Up again.
    const run = fcm(env, ['group', 'move', 'probe', '--to', 'node1']);
    return run.status === 0 ? true : undefined;
  }, 30_000, 500);
  assert.deepEqual(owners('fb-nev', 'fb-shut').filter((o) => o === 'node1'), [], 'failback never and a shut window: they stay');
  for (const g of [...all, 'probe']) ok('group', 'offline', g);
});

test('failoverRetry: a group held Failed past its threshold comes back Online by itself after its own retry period, without cleanup', async () => {
  const RETRY_MS = 3000;
  ok('group', 'create', 'rty', '--preferred', 'node1,node2,node3', 'restart.maxRestarts=0', 'failoverThreshold=1', `failoverRetry=${RETRY_MS / 1000}s`);
  assert.equal(group('rty').failoverRetry, RETRY_MS);
  assert.match(ok('group', 'show', 'rty'), /\nfailover: +at most 1 in 6h, then held Failed for 3s or until cleanup\n/);
  await flaky('rty-app', 'rty', 2);
  ok('group', 'online', 'rty', '--no-wait');
  // A failing start is Online for the ~0.2 s before its process exits: wait for the third placement's.
  const back = await onlineOn('rty', () => placements('rty', 'rty-app').length === 3);
  const tried = placements('rty', 'rty-app');
  assert.deepEqual(tried.map((p) => [p.starts, p.failures]), [[1, 1], [1, 1], [1, 0]], `one failover, held, then the retry: ${JSON.stringify(tried)}`);
  assert.notEqual(back.owner, tried[1]?.node, 'the retry goes elsewhere');
  const history = fcmJson<AuditRecord[]>(env, ['config', 'history', '--limit', '100000']).filter((r) => r.result === 'applied');
  assert.deepEqual(history.filter((r) => /cleanup rty/.test(r.summary)), [], 'no cleanup');
  // Held: nothing placed it anew for the retry period after its second failure (proposers' wall clocks, one machine).
  const lastFailed = history.findLastIndex((r) => r.summary === 'resourceState.set rty-app → Failed');
  const retry = history.slice(lastFailed).find((r) => r.summary.startsWith('placement.set rty → '));
  const held = (retry?.at ?? 0) - (history[lastFailed]?.at ?? 0);
  assert.ok(held >= RETRY_MS - 100, `held ${held} ms before the retry`);
  ok('group', 'offline', 'rty');
});

/** A process's nice value (its main thread's), its parent (from /proc/PID/stat) and its autogroup line. */
function schedOf(pid: number): { nice: number; ppid: number; autogroup: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Field 4 (ppid); field 2 (comm) is in parentheses and may contain ") ".
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  let autogroup = '';
  try {
    autogroup = readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();
  } catch {
    // No autogroups in this kernel.
  }
  return { nice: getPriority(pid), ppid, autogroup };
}

test('CPU priority: agents and their guards at nice -10, the monitor and the resource\'s process at 0, the resource in an autogroup of its own', { skip: process.getuid?.() !== 0 ? 'raising priority needs root' : false }, async () => {
  ok('group', 'create', 'prio');
  ok('resource', 'create', 'prio-app', '--group', 'prio', '--type', 'process', `command=sleep 1000.${TOKEN}0001`);
  ok('group', 'online', 'prio');
  const [resource] = processesMentioning(`1000.${TOKEN}0001`);
  assert.ok(resource !== undefined, 'the resource runs');
  const inLab = (pid: number): boolean => readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(testLab.dir);
  const agents = processesMentioning('\0agent\0run\0').filter(inLab);
  assert.equal(agents.length, 3);
  for (const agent of agents) assert.equal(schedOf(agent).nice, -10, `agent ${agent}`);
  // A guard outlives a killed agent and serves its next life, so it need not be the agent's child.
  const guards = processesMentioning('guard-main').filter(inLab);
  assert.equal(guards.length, 3);
  for (const guard of guards) assert.equal(schedOf(guard).nice, -10, `guard ${guard}`);
  const monitors = processesMentioning('monitor-main').filter((pid) => agents.includes(schedOf(pid).ppid));
  assert.ok(monitors.length >= 1);
  for (const monitor of monitors) assert.equal(schedOf(monitor).nice, 0, `monitor ${monitor}`);
  const run = schedOf(resource);
  assert.equal(run.nice, 0);
  if (run.autogroup !== '') {
    assert.match(run.autogroup, / nice 0$/);
    for (const agent of agents) {
      assert.match(schedOf(agent).autogroup, / nice -10$/);
      assert.notEqual(schedOf(agent).autogroup, run.autogroup);
    }
  }
  ok('group', 'delete', 'prio', '--force', '--yes');
});
