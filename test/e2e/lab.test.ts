// A real 3-node cluster on loopback (fcm lab up), driven through the built
// CLI as a user drives it: status, a config change through one node read
// back from every node, the leader killed and restarted, a node cut off and
// healed, bad input, SSH with the lab's admin key. The lab is taken down at
// the end and no lab process may be left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentStatus, ClusterStatus, NodeView } from '../../src/client/api.js';
import { generateNodeKeyPair } from '../../src/agent/transport/keys.js';
import { UnixSocketClient } from '../../src/client/unix-socket-client.js';
import { closeTestLab, eventually, fcm, fcmError, fcmJson, openTestLab } from './helpers.js';
import type { TestLab } from './helpers.js';

interface LabNodeView {
  id: string;
  name: string;
  running: boolean;
  cut: string | null;
  address: string;
  socket: string;
}
interface LabUp {
  dir: string;
  nodes: LabNodeView[];
  cluster: ClusterStatus;
}
type ConfigGet = { properties: Record<string, number | string> };

let testLab: TestLab<LabUp>;
let tmp = '';
let dir = '';
let env: NodeJS.ProcessEnv = {};
let lab: LabUp;

const run = (...args: string[]) => fcm(env, args);
const json = <T>(...args: string[]) => fcmJson<T>(env, args);

before(async () => {
  testLab = await openTestLab<LabUp>('lab');
  ({ tmp, dir, env } = testLab);
  lab = testLab.up;
});

after(() => closeTestLab(testLab, { removed: true }));

test('the lab forms a 3-node cluster; fcm status shows every node Up and a leader', () => {
  assert.deepEqual(lab.nodes.map((n) => [n.name, n.running]), [['node1', true], ['node2', true], ['node3', true]]);
  const status = json<ClusterStatus>('status');
  assert.equal(status.nodes.length, 3);
  assert.ok(status.nodes.every((n) => n.state === 'Up' && n.role === 'voter'), JSON.stringify(status.nodes));
  assert.ok(status.leader !== null);
  assert.equal(status.nodes.filter((n) => n.leader).length, 1);
  assert.deepEqual(status.quorum, { voters: 3, needed: 2, up: 3, ok: true });
  const human = run('status');
  assert.equal(human.status, 0);
  assert.match(human.out, /\nleader: +node\d, term \d+\n/);
  const labStatus = json<{ relay: { running: boolean }; nodes: LabNodeView[]; cluster: ClusterStatus }>('lab', 'status');
  assert.equal(labStatus.relay.running, true);
  assert.deepEqual(labStatus.nodes.map((n) => [n.running, n.cut]), [[true, null], [true, null], [true, null]]);
});

test('a config change made through one node is read back from every node', async () => {
  const set = json<{ index: number; properties: Record<string, number> }>('config', 'set', 'historyLimit=5000', '--via', 'node2');
  assert.equal(set.properties.historyLimit, 5000);
  for (const node of ['node1', 'node2', 'node3']) {
    await eventually(`${node} to apply historyLimit=5000`, () => {
      const got = json<ConfigGet>('config', 'get', 'historyLimit', '--via', node);
      return got.properties.historyLimit === 5000 ? true : undefined;
    }, 5000);
  }
  const history = json<{ index: number; summary: string }[]>('config', 'history', '--limit', '3', '--via', 'node3');
  assert.ok(history.some((r) => r.index === set.index && r.summary.includes('historyLimit=5000')), JSON.stringify(history));
});

test('the leader is killed: a new leader within two election timeouts, nothing committed lost; restarted, it rejoins and catches up', async (t) => {
  const eMin = json<ConfigGet>('config', 'get', 'electionTimeoutMin').properties.electionTimeoutMin as number;
  const committed = json<{ index: number }>('config', 'set', 'historyLimit=4321');
  const before = json<ClusterStatus>('status');
  const old = before.leader?.name ?? '';
  const survivors = lab.nodes.filter((n) => n.name !== old);

  assert.equal(run('lab', 'kill', old).status, 0);
  const killedAt = performance.now();
  // Polled in-process, every 20 ms, so the measurement is the election's, not the CLI's start-up.
  const clients = await Promise.all(survivors.map((n) => UnixSocketClient.connect(n.socket, { callTimeoutMs: 2000 })));
  let elected: ClusterStatus;
  try {
    // An election timeout is random in [E_min, 2 E_min]: two of them is 4 E_min at most.
    elected = await eventually('a new leader', async () => {
      for (const client of clients) {
        const s = await client.call('cluster.status', {});
        if (s.leader !== null && s.leader.name !== old && s.term > before.term) return s;
      }
      return undefined;
    }, 4 * eMin, 20);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  const electionMs = performance.now() - killedAt;
  t.diagnostic(`new leader ${Math.round(electionMs)} ms after the kill (E_min ${eMin} ms)`);
  assert.ok(electionMs <= 4 * eMin, `new leader after ${Math.round(electionMs)} ms (E_min ${eMin} ms)`);

  const via = elected.leader?.name ?? '';
  assert.ok(elected.commitIndex >= committed.index);
  assert.equal(json<ConfigGet>('config', 'get', 'historyLimit', '--via', via).properties.historyLimit, 4321);
  await eventually(`${old} to be seen Down`, () => (json<ClusterStatus>('status', '--via', via).nodes.find((n) => n.name === old)?.state === 'Down' ? true : undefined), 5000, 100);

  assert.equal(run('lab', 'start', old).status, 0);
  const after = json<{ index: number }>('config', 'set', 'historyLimit=4322', '--via', via);
  await eventually(`${old} to rejoin and catch up`, () => {
    const s = json<ClusterStatus>('status', '--via', via);
    const agent = json<AgentStatus>('agent', 'status', '--via', old);
    return s.nodes.find((n) => n.name === old)?.state === 'Up' && agent.appliedIndex >= after.index && agent.leader?.name === s.leader?.name ? true : undefined;
  }, 10_000, 100);
  assert.equal(json<ConfigGet>('config', 'get', 'historyLimit', '--via', old).properties.historyLimit, 4322);
});

test('a node cut off loses its lease, and gets it back after heal', async () => {
  const status = json<ClusterStatus>('status');
  const follower = status.nodes.find((n) => !n.leader)?.name ?? '';
  assert.notEqual(json<AgentStatus>('agent', 'status', '--via', follower).leaseRemainingMs, null);

  assert.equal(run('lab', 'cut', follower).status, 0);
  try {
    assert.equal(json<{ nodes: LabNodeView[] }>('lab', 'status').nodes.find((n) => n.name === follower)?.cut, 'reset');
    const lost = await eventually(`${follower} to lose its lease`, () => {
      const agent = json<AgentStatus>('agent', 'status', '--via', follower);
      return agent.leaseRemainingMs === null ? agent : undefined;
    }, 10_000, 100);
    assert.match(run('agent', 'status', '--via', follower).out, /\nnode lease: +none \(may not run groups\)\n/);
    assert.notEqual(lost.role, 'leader');
  } finally {
    assert.equal(run('lab', 'heal', follower).status, 0);
  }
  await eventually(`${follower} to rejoin with a lease`, () => {
    const agent = json<AgentStatus>('agent', 'status', '--via', follower);
    const s = json<ClusterStatus>('status');
    return agent.leaseRemainingMs !== null && agent.leader !== null && s.nodes.find((n) => n.name === follower)?.state === 'Up' ? true : undefined;
  }, 10_000, 100);
});

test('node remove is refused when it puts quorum at risk (exit 4), goes with --force, and node add brings the node back', () => {
  const refused = fcmError(env, ['node', 'remove', 'node3']);
  assert.deepEqual([refused.status, refused.code], [4, 'E_QUORUM_AT_RISK']);
  assert.match(refused.hint ?? '', /--force/);
  assert.ok(json<{ removed: string }>('node', 'remove', 'node3', '--force').removed !== '');
  assert.deepEqual(json<NodeView[]>('node', 'list', '--via', 'node1').map((n) => n.name), ['node1', 'node2']);
  assert.equal(json<AgentStatus>('agent', 'status', '--via', 'node3').cluster, null, 'the removed node is a fresh agent');

  const address = lab.nodes.find((n) => n.name === 'node3')?.address ?? '';
  const added = json<NodeView>('node', 'add', address);
  assert.deepEqual([added.name, added.state, added.role], ['node3', 'Up', 'voter']);
  const again = fcm(env, ['node', 'add', address, '--json']);
  assert.equal(again.status, 0);
  assert.match(again.err, /node3 is a member already/);
  const status = json<ClusterStatus>('status');
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), [['node1', 'Up'], ['node2', 'Up'], ['node3', 'Up']]);
  assert.equal(json<AgentStatus>('agent', 'status', '--via', 'node3').cluster?.id, status.cluster.id);
});

test('bad input: unknown names exit 3, malformed values exit 2 or 1 by code, an unknown key gets a hint', () => {
  const unknownNode = fcmError(env, ['node', 'show', 'node9']);
  assert.deepEqual([unknownNode.status, unknownNode.code], [3, 'E_NOT_FOUND']);
  const unknownLabNode = fcmError(env, ['lab', 'kill', 'node9']);
  assert.deepEqual([unknownLabNode.status, unknownLabNode.code], [3, 'E_NOT_FOUND']);
  const unknownVia = fcmError(env, ['status', '--via', 'node9']);
  assert.deepEqual([unknownVia.status, unknownVia.code], [3, 'E_NOT_FOUND']);

  const badName = fcmError(env, ['node', 'show', 'node 9!']);
  assert.deepEqual([badName.status, badName.code], [2, 'E_USAGE']);
  const noEquals = fcmError(env, ['config', 'set', 'heartbeatInterval']);
  assert.deepEqual([noEquals.status, noEquals.code], [2, 'E_USAGE']);
  const badDuration = fcmError(env, ['config', 'set', 'heartbeatInterval=fast']);
  assert.deepEqual([badDuration.status, badDuration.code], [1, 'E_INVALID_DURATION']);
  assert.match(badDuration.hint ?? '', /500ms/);
  const unsafe = fcmError(env, ['config', 'set', 'heartbeatInterval=200ms']);
  assert.deepEqual([unsafe.status, unsafe.code], [1, 'E_UNSAFE_TIMING']);

  const typo = fcmError(env, ['config', 'set', 'hartbeatInterval=90ms']);
  assert.deepEqual([typo.status, typo.code], [1, 'E_UNKNOWN_PROPERTY']);
  assert.match(typo.hint ?? '', /did you mean 'heartbeatInterval'\?/);
  const unknownKey = fcmError(env, ['config', 'get', 'nosuchkey']);
  assert.equal(unknownKey.status, 1);
  assert.match(unknownKey.hint ?? '', /heartbeatInterval/);
  const human = run('config', 'get', 'hartbeatInterval');
  assert.match(human.err, /^error: .*hartbeatInterval.*\nhint: did you mean 'heartbeatInterval'\?\n$/);
});

test('over SSH with the lab\'s admin key: the host key is pinned on first use; a key the nodes do not know is refused', async () => {
  const node2 = lab.nodes.find((n) => n.name === 'node2');
  assert.ok(node2 !== undefined);
  const args = ['--host', node2.address, '--identity', join(dir, 'admin_key'), 'status', '--json'];
  const first = fcm(env, args);
  assert.equal(first.status, 0, first.err);
  assert.match(first.err, /warning: first connection to \[127\.0\.0\.1\]:\d+: trusting its host key SHA256:/);
  assert.equal((JSON.parse(first.out) as ClusterStatus).nodes.length, 3);
  const second = fcm(env, args);
  assert.deepEqual([second.status, second.err], [0, '']);
  const strangerKey = join(tmp, 'stranger_key');
  await writeFile(strangerKey, (await generateNodeKeyPair('stranger')).privateKey, { mode: 0o600 });
  const stranger = fcmError(env, ['--host', node2.address, '--identity', strangerKey, 'node', 'list']);
  assert.deepEqual([stranger.status, stranger.code], [1, 'E_AUTH']);
});

test('cluster destroy: refused without --yes when nobody can confirm (exit 4); with --yes every node forgets the cluster', () => {
  const refused = fcmError(env, ['cluster', 'destroy']);
  assert.deepEqual([refused.status, refused.code], [4, 'E_REFUSED']);
  assert.equal(json<ClusterStatus>('status').nodes.length, 3, 'nothing was destroyed');
  const destroyed = json<{ destroyed: string[] }>('cluster', 'destroy', '--yes');
  assert.equal(destroyed.destroyed.length, 3);
  for (const name of ['node1', 'node2', 'node3']) assert.equal(json<AgentStatus>('agent', 'status', '--via', name).cluster, null, name);
});
