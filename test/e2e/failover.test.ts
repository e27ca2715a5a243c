// Failover as a user drives it: a 3-node lab (fcm lab up), a group with a
// `process` resource brought online with `fcm group online` (which waits),
// its owner killed with `fcm lab kill`, the group Online on another node as
// `fcm status` and `fcm group show` report it, the node started again and
// the group moved back with `fcm group move --to`. `fcm lab down` must
// leave no lab process (agents, guards, monitors, resources) and no cgroup
// of its nodes behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupView } from '../../src/client/api.js';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';
import { closeTestLab, eventually, fcm, fcmJson, openTestLab } from './helpers.js';
import type { TestLab } from './helpers.js';

let testLab: TestLab<unknown>;
let env: NodeJS.ProcessEnv = {};
/** The lab's node ids: each node's guard keeps its groups' cgroups under <cgroup2>/fcm/<id>. */
let nodeIds: string[] = [];

const ok = (...args: string[]): string => {
  const run = fcm(env, args, 60_000);
  assert.equal(run.status, 0, `fcm ${args.join(' ')}: ${run.out}${run.err}`);
  return run.out;
};
const group = (): GroupView => fcmJson<GroupView>(env, ['group', 'show', 'g']);

before(async () => {
  testLab = await openTestLab<unknown>('failover');
  ({ env } = testLab);
  nodeIds = fcmJson<{ nodes: { id: string }[] }>(env, ['status']).nodes.map((n) => n.id);
  assert.equal(nodeIds.length, 3);
});

after(() => closeTestLab(testLab, { nodeIds }));

test('fcm group online, lab kill of the owner, Online elsewhere, lab start, group move --to', async (t) => {
  ok('group', 'create', 'g');
  ok('resource', 'create', 'sleeper', '--group', 'g', '--type', 'process', 'command=sleep 1000');
  ok('group', 'online', 'g');
  const first = group();
  assert.equal(first.state, 'Online');
  assert.ok(first.owner !== null);
  assert.equal(first.resources[0]?.state, 'Online');
  assert.match(ok('status'), /\bg\b.*Online/);
  const ownerId = fcmJson<{ nodes: { id: string; name: string }[] }>(env, ['status']).nodes.find((n) => n.name === first.owner)?.id ?? '';
  const mount = await findCgroup2Mount();
  if (mount !== null) assert.ok((await stat(join(mount, 'fcm', ownerId, 'g')).then(() => true, () => false)), 'the group runs in its cgroup on its owner');

  const killedAt = performance.now();
  ok('lab', 'kill', first.owner);
  const moved = await eventually('g Online on another node', () => {
    const g = group();
    return g.state === 'Online' && g.owner !== null && g.owner !== first.owner ? g : undefined;
  }, 20_000, 20);
  const failoverMs = Math.round(performance.now() - killedAt);
  assert.equal(moved.resources[0]?.node, moved.owner);

  ok('lab', 'start', first.owner);
  await eventually(`${first.owner} Up`, () => (fcmJson<{ nodes: { name: string; state: string }[] }>(env, ['status']).nodes
    .every((n) => n.state === 'Up') ? true : undefined), 30_000);
  ok('group', 'move', 'g', '--to', first.owner);
  const back = group();
  assert.deepEqual([back.state, back.owner], ['Online', first.owner]);
  ok('group', 'offline', 'g');
  assert.equal(group().state, 'Offline');
  t.diagnostic(`failover through the lab: ${failoverMs} ms from fcm lab kill to Online elsewhere (CLI polling included)`);
});

test('fcm lab demo: a group Online, its owner SIGKILLed, Online on another node, the owner back Up', () => {
  const report = fcmJson<{ group: string; from: string; to: string; failoverMs: number; steps: { step: string; ms: number }[] }>(env, ['lab', 'demo'], 120_000);
  assert.equal(report.group, 'demo');
  assert.notEqual(report.from, report.to);
  assert.equal(report.steps.length, 5);
  const status = fcmJson<{ nodes: { name: string; state: string }[]; groups: GroupView[] }>(env, ['status']);
  assert.deepEqual(status.nodes.map((n) => n.state), ['Up', 'Up', 'Up'], 'the demo waits until every node sees every node Up');
  const demo = status.groups.find((g) => g.name === 'demo');
  assert.deepEqual([demo?.state, demo?.owner], ['Online', report.to]);
  // Run again, the group is reused.
  const again = fcmJson<{ from: string; to: string }>(env, ['lab', 'demo'], 120_000);
  assert.equal(again.from, report.to);
});
