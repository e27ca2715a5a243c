// Fencing by watchdog on a real lab (fcm lab up --fencing watchdog): every
// fcm process of a group's owner (agent, resource monitor, lease guard) is
// frozen with SIGSTOP while the group's `sleep` keeps running. Nothing of
// fcm on that node can act, so only the node's watchdog, no longer fed, can
// stop the group: the lab's emulator must reset the node (SIGKILL of its
// processes, cgroup.kill of its groups) before another node starts the
// group. Checked by polling both: the old `sleep` must be gone at every
// poll where a new one runs elsewhere. Then SIGCONT finds nothing to wake,
// `lab start` brings the node back (its guard re-arms its watchdog), and
// `lab down` leaves no process and no cgroup. A second lab checks that
// `lab down` disarms every watchdog and resets nobody.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStatus, GroupView } from '../../src/client/api.js';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';
import { isSameProcess, processIdentity } from '../../src/os/process-identity.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import { signal } from '../../src/lab/processes.js';
import { eventually, fcm, fcmJson, labTestEnv, processesMentioning } from './helpers.js';

interface LabStatus {
  watchdog: { pid: number | null; running: boolean; timeoutMs: number } | null;
  nodes: { id: string; name: string; pid: number | null; running: boolean; watchdog: { state: string; resets: number } | null }[];
}

/** L of the lab's default lease timing, ms. */
const NODE_LEASE_MS = 1000;

async function withLab(name: string, nodes: number, run: (env: NodeJS.ProcessEnv, dir: string, nodeIds: string[]) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), `fcm-e2e-${name}-`));
  const dir = join(tmp, 'lab');
  const env = labTestEnv(tmp, dir);
  let nodeIds: string[] = [];
  let failure: unknown = null;
  try {
    fcmJson(env, ['lab', 'up', '--nodes', String(nodes), '--dir', dir, '--fencing', 'watchdog'], 90_000);
    nodeIds = fcmJson<{ nodes: { id: string }[] }>(env, ['status']).nodes.map((n) => n.id);
    await run(env, dir, nodeIds);
  } catch (err) {
    failure = err;
  }
  // Taken down whatever happened; a failure of the test itself is reported first.
  const down = fcm(env, ['lab', 'down'], 60_000);
  const left = processesMentioning(dir);
  const mount = await findCgroup2Mount();
  const cgroups = [];
  for (const id of nodeIds) if (mount !== null && (await stat(join(mount, 'fcm', id)).then(() => true, () => false))) cgroups.push(id);
  await rm(tmp, { recursive: true, force: true });
  if (failure !== null) throw failure;
  assert.equal(down.status, 0, down.err);
  assert.deepEqual(left, [], 'no lab process is left');
  assert.deepEqual(cgroups, [], 'no cgroup of the lab\'s nodes is left');
}

/** Live processes in the group's cgroup on node `nodeId` that run `sleep`. */
async function sleepsIn(mount: string, nodeId: string, group: string): Promise<ProcessIdentity[]> {
  const procs = await readFile(join(mount, 'fcm', nodeId, group, 'cgroup.procs'), 'utf8').catch(() => '');
  const pids = procs.split('\n').filter((l) => l !== '').map(Number);
  const sleeps: ProcessIdentity[] = [];
  for (const pid of pids) {
    const argv = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    const id = processIdentity(pid);
    if (argv.startsWith('sleep\0') && id !== undefined) sleeps.push(id);
  }
  return sleeps;
}

/** The agent's children whose command line mentions `entry` (monitor-main, guard-main). */
async function childrenRunning(agentPid: number, entry: string): Promise<ProcessIdentity[]> {
  const tasks = await readdir(`/proc/${agentPid}/task`);
  const children = (await Promise.all(tasks.map((t) => readFile(`/proc/${agentPid}/task/${t}/children`, 'utf8'))))
    .flatMap((l) => l.split(' ').filter((s) => s !== '').map(Number));
  const found: ProcessIdentity[] = [];
  for (const pid of children) {
    const argv = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    const id = processIdentity(pid);
    if (argv.includes(entry) && id !== undefined) found.push(id);
  }
  return found;
}

test('a frozen owner is reset by its watchdog before its group starts elsewhere; it comes back with lab start', { timeout: 170_000 }, async (t) => {
  const mount = await findCgroup2Mount();
  if (mount === null) {
    t.skip('no cgroup v2');
    return;
  }
  const stopped: ProcessIdentity[] = [];
  await withLab('watchdog', 3, async (env, dir) => {
    try {
      await failOver(env, dir, mount, stopped, t);
    } finally {
      // Never leave a process stopped: lab down could not stop a frozen guard.
      for (const p of stopped) signal(p, 'SIGCONT');
    }
  });
});

async function failOver(env: NodeJS.ProcessEnv, dir: string, mount: string, stopped: ProcessIdentity[], t: TestContext): Promise<void> {
  const ok = (...args: string[]): string => {
    const run = fcm(env, args, 60_000);
    assert.equal(run.status, 0, `fcm ${args.join(' ')}: ${run.out}${run.err}`);
    return run.out;
  };
  ok('group', 'create', 'g');
  ok('resource', 'create', 'sleeper', '--group', 'g', '--type', 'process', 'command=sleep 1000');
  ok('group', 'online', 'g');
  const owner = fcmJson<GroupView>(env, ['group', 'show', 'g']).owner ?? '';
  const names = fcmJson<{ nodes: { id: string; name: string }[] }>(env, ['status']).nodes;
  const ownerId = names.find((n) => n.name === owner)?.id ?? '';
  const others = names.filter((n) => n.name !== owner);
  const via = others[0]?.name ?? '';
  const lab = fcmJson<LabStatus>(env, ['lab', 'status']);
  const node = lab.nodes.find((n) => n.name === owner);
  assert.ok(node?.pid != null && node.watchdog?.state === 'armed', `${owner}'s agent runs and its watchdog is armed`);
  assert.equal(fcmJson<{ properties: Record<string, string> }>(env, ['config', 'get', 'fencing']).properties.fencing, 'watchdog', 'the cluster knows it is fenced');
  const fencing = fcmJson<AgentStatus>(env, ['agent', 'status', '--via', owner]).fencing;
  assert.deepEqual(fencing, { kind: 'watchdog', device: join(dir, 'watchdog', `${owner}.fifo`), timeoutMs: lab.watchdog?.timeoutMs ?? -1 });
  const agent = processIdentity(node.pid);
  assert.ok(agent !== undefined);
  // The guard serves its agent only (one connection), so it is found as the agent's child.
  const [guard, ...moreGuards] = await childrenRunning(agent.pid, 'guard-main');
  assert.ok(guard !== undefined && moreGuards.length === 0, 'the agent started one lease guard');
  assert.match(await readFile(`/proc/${guard.pid}/cmdline`, 'latin1'), new RegExp(`\0--watchdog\0${join(dir, 'watchdog', `${owner}.fifo`)}\0`));
  const monitors = await childrenRunning(agent.pid, 'monitor-main');
  assert.ok(monitors.length >= 1, 'the agent has a resource monitor');
  const [oldSleep] = await sleepsIn(mount, ownerId, 'g');
  assert.ok(oldSleep !== undefined, 'the group\'s sleep runs in its cgroup on the owner');

  // Freeze every fcm process of the owner; its sleep runs on.
  const stoppedAt = performance.now();
  for (const p of [agent, ...monitors, guard]) {
    assert.equal(signal(p, 'SIGSTOP'), 'sent');
    stopped.push(p);
  }
  let goneAt: number | null = null;
  let newAt: number | null = null;
  const deadline = performance.now() + 30_000;
  while (newAt === null && performance.now() < deadline) {
    const oldAlive = isSameProcess(oldSleep);
    const elsewhere = (await Promise.all(others.map((o) => sleepsIn(mount, o.id, 'g')))).flat();
    if (!oldAlive) goneAt ??= performance.now();
    if (elsewhere.length > 0) {
      assert.ok(!oldAlive, 'the group never runs on two nodes: the old sleep is gone before a new one starts');
      newAt = performance.now();
    }
    await sleep(10);
  }
  assert.ok(goneAt !== null && newAt !== null, `the old sleep died (${goneAt !== null}) and the group started elsewhere (${newAt !== null})`);
  const moved = await eventually('g Online on another node', () => {
    const g = fcmJson<GroupView>(env, ['--via', via, 'group', 'show', 'g']);
    return g.state === 'Online' && g.owner !== null && g.owner !== owner ? g : undefined;
  }, 30_000);
  assert.notEqual(moved.owner, owner);

  // The frozen processes were killed by the reset, not merely stopped.
  for (const p of [agent, ...monitors, guard]) assert.equal(isSameProcess(p), false, `pid ${p.pid} is gone`);
  const status = fcmJson<LabStatus>(env, ['lab', 'status']);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.watchdog?.resets]), names.map((n) => [n.name, n.name === owner ? 1 : 0]), 'one reset, of the owner');
  assert.equal(status.nodes.find((n) => n.name === owner)?.running, false);
  assert.match(await readFile(join(dir, 'watchdog', 'watchdog.log'), 'utf8'), new RegExp(`${owner}: RESET: not fed for \\d+ ms`));
  const mountOwner = await stat(join(mount, 'fcm', ownerId)).then(() => true, () => false);
  assert.equal(mountOwner, false, 'the reset removed the owner\'s cgroups');

  // SIGCONT after three leases is harmless: there is nothing left to wake.
  await sleep(Math.max(0, stoppedAt + 3 * NODE_LEASE_MS - performance.now()));
  for (const p of stopped.splice(0)) assert.equal(signal(p, 'SIGCONT'), 'gone');

  ok('lab', 'start', owner);
  await eventually(`${owner} Up`, () => (fcmJson<{ nodes: { state: string }[] }>(env, ['--via', via, 'status']).nodes
    .every((n) => n.state === 'Up') ? true : undefined), 30_000);
  const back = await eventually(`${owner}'s watchdog armed again`, () => {
    const w = fcmJson<LabStatus>(env, ['lab', 'status']).nodes.find((n) => n.name === owner)?.watchdog;
    return w?.state === 'armed' ? w : undefined;
  }, 10_000);
  assert.equal(back.resets, 1);
  t.diagnostic(`SIGSTOP to old sleep gone: ${Math.round(goneAt - stoppedAt)} ms; to the group's sleep on ${moved.owner ?? '?'}: ${Math.round(newAt - stoppedAt)} ms`);
}

// One node: its own leader, so its lease does not lapse while lab down
// stops it. With more nodes the relay's stop ends every owner's lease with
// its group running, and then only the guard's kill, within λ + K, keeps
// the watchdog from resetting the node (by design: that is A2).
test('lab down on a watchdog lab disarms every watchdog and resets nobody', { timeout: 120_000 }, async () => {
  await withLab('watchdog-down', 1, async (env, dir) => {
    const ok = (...args: string[]): void => {
      const run = fcm(env, args, 60_000);
      assert.equal(run.status, 0, `fcm ${args.join(' ')}: ${run.out}${run.err}`);
    };
    ok('group', 'create', 'g');
    ok('resource', 'create', 'sleeper', '--group', 'g', '--type', 'process', 'command=sleep 1000');
    ok('group', 'online', 'g');
    ok('lab', 'down', '--keep');
    const status = fcmJson<LabStatus>(env, ['lab', 'status']);
    const log = await readFile(join(dir, 'watchdog', 'watchdog.log'), 'utf8');
    assert.equal(status.watchdog?.running, false);
    assert.deepEqual(status.nodes.map((n) => n.watchdog), status.nodes.map(() => ({ state: 'disarmed', resets: 0 })), log);
    assert.doesNotMatch(log, /RESET/);
  });
});
