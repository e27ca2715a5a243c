// Commands through runCli with the agent passed in (as the agent's exec
// handler does), over a real Unix socket to a server speaking the contract:
// renderings, JSON shapes, error codes and exit codes, confirmations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterStatus, NodeView } from '../../src/client/api.js';
import { parseSettings } from '../../src/cli/commands/config.js';
import { UsageError } from '../../src/cli/errors.js';
import { withAgent } from './with-agent.js';
import { groupView, resourceView } from './views-fixture.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const node = (name: string, extra: Partial<NodeView> = {}): NodeView => ({
  id: `id-${name}`, name, address: `127.0.0.1:4000${name.slice(-1)}`, state: 'Up', role: 'voter', leader: false, kind: 'node',
  lastHeardMs: 12, matchIndex: 7, leaseRemainingMs: 900, ...extra,
});

const STATUS: ClusterStatus = {
  cluster: { id: 'c-1', name: 'lab' },
  leader: { id: 'id-node1', name: 'node1' },
  term: 3,
  quorum: { voters: 3, needed: 2, up: 3, ok: true },
  nodes: [node('node1', { leader: true, lastHeardMs: null }), node('node2'), node('node3', { state: 'Down', lastHeardMs: 4200, leaseRemainingMs: null })],
  commitIndex: 7,
};

test('fcm status: leader, quorum, a node table and the groups for people; the ClusterStatus with groups at a glance with --json; the client passed in stays open', async () => {
  const web = groupView('web', {
    state: 'PartialOnline', desired: 'online', owner: 'node1', epoch: 4,
    resources: [resourceView('app', { state: 'Online', node: 'node1' }), resourceView('ip1', { type: 'ip', desired: 'offline' })],
  });
  await withAgent({ 'cluster.status': async () => STATUS, 'group.list': async () => [web] }, async (run, methods) => {
    const human = await run(['status']);
    assert.equal(human.exitCode, 0);
    assert.equal(human.err, '');
    assert.match(human.out, /^cluster: +lab \(c-1\)\nleader: +node1, term 3\nquorum: +ok: 3 of 3 voters up, 2 needed\n/);
    assert.match(human.out, /\nNAME +STATE +ROLE +ADDRESS +LAST HEARD +MATCH +LEASE LEFT\nnode1 +Up +leader +127\.0\.0\.1:40001 +- +7 +900ms\n/);
    assert.match(human.out, /\nnode3 +Down +voter +127\.0\.0\.1:40003 +4\.2s +7 +-\n/);
    assert.match(human.out, /\nGROUP +STATE +OWNER +WANTED +RESOURCES\nweb +PartialOnline +node1 +online +app Online, ip1 Offline \(wanted offline\)\n$/);
    const json = await run(['status', '--json']);
    assert.deepEqual(JSON.parse(json.out), {
      ...STATUS,
      groups: [{
        name: 'web', state: 'PartialOnline', desired: 'online', owner: 'node1',
        resources: [{ name: 'app', state: 'Online', desired: 'online' }, { name: 'ip1', state: 'Offline', desired: 'offline' }],
      }],
    });
    const again = await run(['cluster', 'status', '--json']);
    assert.deepEqual(JSON.parse(again.out), JSON.parse(json.out));
    assert.deepEqual(methods(), ['cluster.status', 'group.list', 'cluster.status', 'group.list', 'cluster.status', 'group.list']);
  });
});

test('agent errors keep their codes: not found exits 3, every reported problem and hint is shown', async () => {
  const reports = [
    { code: 'E_UNKNOWN_PROPERTY', severity: 'error', message: 'there is no cluster property "hartbeatInterval"', hint: "did you mean 'heartbeatInterval'?" },
    { code: 'E_INVALID_VALUE', severity: 'error', message: 'nodeLease must be a whole duration', forceable: true },
  ];
  await withAgent({
    'node.show': () => Promise.reject({ code: 'E_NOT_FOUND', message: 'there is no node "node9"', hint: 'see fcm node list' }),
    'config.set': () => Promise.reject({ code: 'E_UNKNOWN_PROPERTY', message: 'config.set refused', reports }),
  }, async (run) => {
    const missing = await run(['node', 'show', 'node9']);
    assert.deepEqual([missing.exitCode, missing.out], [3, '']);
    assert.equal(missing.err, 'error: there is no node "node9"\nhint: see fcm node list\n');
    const json = await run(['--json', 'config', 'set', 'hartbeatInterval=1s', 'nodeLease=x']);
    assert.equal(json.exitCode, 1);
    const { error } = JSON.parse(json.out) as { error: { code: string; message: string; hint: string } };
    assert.equal(error.code, 'E_UNKNOWN_PROPERTY');
    assert.match(error.message, /hartbeatInterval.*; nodeLease must be/);
    assert.match(error.hint, /did you mean 'heartbeatInterval'\?; use --force to override/);
  });
});

test('config set: malformed KEY=VALUE words are usage errors (exit 2), all named, nothing sent', async () => {
  await withAgent({}, async (run, methods) => {
    const { exitCode, err } = await run(['config', 'set', 'a=1', 'novalue', '=x', 'a=2']);
    assert.equal(exitCode, 2);
    assert.match(err, /'novalue' has no '='; '=x' has no key before '='; a is given twice/);
    assert.deepEqual(methods(), []);
  });
  assert.deepEqual(parseSettings(['heartbeatInterval=150ms', 'profile=wan', 'x=a=b']), { heartbeatInterval: '150ms', profile: 'wan', x: 'a=b' });
  assert.throws(() => parseSettings(['oops']), UsageError);
});

test('config get shows durations with units; set warns on stderr and reports the index', async () => {
  await withAgent({
    'config.get': async () => ({ properties: { heartbeatInterval: 150, profile: 'lan' }, defaults: { heartbeatInterval: 100, profile: 'lan' } }),
    'config.set': async () => ({ index: 42, properties: { heartbeatInterval: 150 }, warnings: [{ code: 'E_UNSAFE_TIMING', severity: 'warning', message: 'forced: unsafe' }] }),
  }, async (run) => {
    const get = await run(['config', 'get']);
    assert.match(get.out, /^KEY +VALUE +DEFAULT\nheartbeatInterval +150ms +100ms\nprofile +lan +lan\n$/);
    const set = await run(['config', 'set', 'heartbeatInterval=150ms', '--force']);
    assert.equal(set.exitCode, 0);
    assert.equal(set.err, 'warning: forced: unsafe\n');
    assert.match(set.out, /heartbeatInterval +150ms\ncommitted at index 42\n$/);
  });
});

test('cluster destroy: without --yes and nobody to ask it is refused (exit 4) and nothing is destroyed', async () => {
  await withAgent({ 'cluster.status': async () => STATUS, 'cluster.destroy': async () => ({ destroyed: ['id-node1', 'id-node2'] }) }, async (run, methods) => {
    const refused = await run(['cluster', 'destroy']);
    assert.equal(refused.exitCode, 4);
    assert.match(refused.err, /hint: .*--yes/);
    assert.ok(!methods().includes('cluster.destroy'));
    const done = await run(['cluster', 'destroy', '--yes']);
    assert.equal(done.exitCode, 0);
    assert.match(done.out, /nodes wiped: +node1, node2/);
  });
});

test('node pause waits until the node is Paused; --no-wait returns what the agent accepted', async () => {
  let shows = 0;
  await withAgent({
    'node.pause': async () => node('node2'),
    'node.show': async () => node('node2', { state: ++shows >= 2 ? 'Paused' : 'Up' }),
  }, async (run, methods) => {
    const waited = await run(['node', 'pause', 'node2', '--json']);
    assert.equal((JSON.parse(waited.out) as NodeView).state, 'Paused');
    assert.deepEqual(methods(), ['node.pause', 'node.show', 'node.show']);
    const quick = await run(['node', 'pause', 'node2', '--no-wait', '--json']);
    assert.equal((JSON.parse(quick.out) as NodeView).state, 'Up');
  });
});

test('no agent anywhere: exit 5 with a hint, from the built CLI', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-noagent-'));
  try {
    const env = { ...process.env, XDG_STATE_HOME: join(dir, 'state'), FCM_SOCKET: join(dir, 'agent.sock'), FCM_LAB: '' };
    const result = spawnSync(process.execPath, [MAIN, 'status'], { encoding: 'utf8', env, timeout: 10_000 });
    assert.equal(result.status, 5);
    assert.match(result.stderr, /^error: no agent socket at .*agent\.sock\nhint: .*fcm agent run/);
    const json = spawnSync(process.execPath, [MAIN, '--json', 'node', 'list'], { encoding: 'utf8', env, timeout: 10_000 });
    assert.equal(json.status, 5);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'E_UNAVAILABLE');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
