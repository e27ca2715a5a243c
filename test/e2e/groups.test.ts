// Groups and resources on a real 3-node lab: the agent API on a follower's
// socket (a change is carried out by the leader and read back at once where
// it was asked), and the built CLI as a user runs it: create, list, show,
// depend, delete, the waits of online and offline, fcm status, and bad input
// with its exit codes. The lab is taken down at the end. No group with an
// ip resource is ever wanted online, and every process resource a group
// wanted online would run cannot start, so that nothing here changes the
// machine once nodes run groups.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ApiCallError } from '../../src/client/agent-client.js';
import type { ClusterStatus, GroupChange, GroupView, ResourceTypeView, ResourceView } from '../../src/client/api.js';
import { UnixSocketClient } from '../../src/client/unix-socket-client.js';
import type { StatusWithGroups } from '../../src/cli/commands/cluster.js';
import { closeTestLab, fcm, fcmError, fcmJson, openTestLab } from './helpers.js';
import type { TestLab } from './helpers.js';

interface LabUp {
  dir: string;
  nodes: { name: string; socket: string }[];
  cluster: ClusterStatus;
}

let testLab: TestLab<LabUp>;
let env: NodeJS.ProcessEnv = {};
let lab: LabUp;

const run = (...args: string[]) => fcm(env, args);
const json = <T>(...args: string[]) => fcmJson<T>(env, args);

before(async () => {
  testLab = await openTestLab<LabUp>('groups');
  ({ env } = testLab);
  lab = testLab.up;
});

after(() => closeTestLab(testLab));

/** The API error code of a call that must fail. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ApiCallError, String(err));
    return err.code;
  }
  assert.fail('the call succeeded');
}

test('the API on a follower: a group with dependent resources, refusals with stable codes, show and list read back at once', async () => {
  const leader = lab.cluster.leader?.name;
  const follower = lab.nodes.find((n) => n.name !== leader);
  assert.ok(follower !== undefined);
  const api = await UnixSocketClient.connect(follower.socket, { callTimeoutMs: 20_000 });
  try {
    const created: GroupChange = await api.call('group.create', { group: 'api', settings: { preferredOwners: ['node2', 'node1'], restart: { failGroupOver: false } } });
    assert.deepEqual([created.group.name, created.group.state, created.group.desired, created.group.owner], ['api', 'Offline', 'offline', null]);
    assert.deepEqual(created.group.preferredOwners, ['node2', 'node1']);
    assert.equal(created.group.restart.failGroupOver, false);
    await api.call('resource.create', { resource: 'api-ip', group: 'api', type: 'ip', parameters: { address: '10.200.0.1/24' } });
    await api.call('resource.create', { resource: 'api-disk', group: 'api', type: 'process', parameters: { command: '/bin/true' } });
    const app = await api.call('resource.create', {
      resource: 'api-app', group: 'api', type: 'process', parameters: { command: '/bin/sleep 600' }, dependsOn: 'api-ip and (api-disk or api-ip)',
      settings: { deadlines: { start: '2m' } },
    });
    assert.deepEqual([app.resource.dependsOn, app.resource.deadlines.start, app.resource.state, app.resource.desired], ['api-ip and (api-disk or api-ip)', 120_000, 'Offline', 'online']);

    assert.equal(await codeOf(api.call('resource.depend', { resource: 'api-ip', on: 'api-app' })), 'E_DEPENDENCY_CYCLE');
    await api.call('group.create', { group: 'other' });
    await api.call('resource.create', { resource: 'other-ip', group: 'other', type: 'ip', parameters: { address: '10.200.0.2/24' } });
    assert.equal(await codeOf(api.call('resource.depend', { resource: 'api-app', on: 'other-ip' })), 'E_DEPENDENCY_OUTSIDE_GROUP');
    assert.equal(await codeOf(api.call('resource.create', { resource: 'x', group: 'api', type: 'no-such-type' })), 'E_NOT_FOUND');
    assert.equal(await codeOf(api.call('resource.create', { resource: 'x', group: 'api', type: 'process', parameters: { comand: 'x' } })), 'E_UNKNOWN_PARAMETER');
    assert.equal(await codeOf(api.call('group.show', { group: 'nope' })), 'E_NOT_FOUND');
    assert.equal(await codeOf(api.call('group.move', { group: 'api', to: 'node9' })), 'E_NOT_FOUND');
    assert.equal(await codeOf(api.call('resource.fail', { resource: 'api-app' })), 'E_NOT_ONLINE');
    assert.equal(await codeOf(api.call('group.create', { group: 'bad name' })), 'E_INVALID_NAME');
    assert.equal(await codeOf(api.call('group.set', { group: 'api' } as never)), 'E_INVALID_PARAMS');

    const offlineIp = await api.call('resource.offline', { resource: 'api-ip' });
    assert.deepEqual(offlineIp.warnings.map((w) => w.code), ['E_IN_USE']);
    await api.call('group.create', { group: 'api-move' });
    await api.call('resource.create', { resource: 'api-never', group: 'api-move', type: 'process', parameters: { command: '/nonexistent/fcm-e2e' } });
    const moved = await api.call('group.move', { group: 'api-move', to: 'node3' });
    assert.deepEqual([moved.group.desired, moved.group.move], ['online', { to: 'node3', from: null }]);
    const stopped = await api.call('group.offline', { group: 'api-move' });
    assert.deepEqual([stopped.group.desired, stopped.group.move], ['offline', null]);

    const shown: GroupView = await api.call('group.show', { group: 'api' });
    assert.deepEqual(shown.resources.map((r) => [r.name, r.desired]), [['api-app', 'online'], ['api-disk', 'online'], ['api-ip', 'offline']]);
    const listed = await api.call('group.list', {});
    assert.deepEqual(listed.map((g) => g.name), ['api', 'api-move', 'other']);
    const resources: ResourceView[] = await api.call('resource.list', { group: 'other' });
    assert.deepEqual(resources.map((r) => r.name), ['other-ip']);

    const deleted = await api.call('group.delete', { group: 'other', force: true });
    assert.deepEqual([deleted.deleted, deleted.resources], ['other', ['other-ip']]);
    assert.equal(await codeOf(api.call('resource.show', { resource: 'other-ip' })), 'E_NOT_FOUND');
  } finally {
    await api.close();
  }
});

test('resource types: the built-in types, and installed OCF agents usable as ocf:PROVIDER:AGENT', async (t) => {
  const types = json<ResourceTypeView[]>('resource', 'types');
  assert.deepEqual(types.filter((x) => x.builtin).map((x) => x.name), ['disk', 'ip', 'process']);
  assert.ok(types.find((x) => x.name === 'ip')?.parameters.some((p) => p.name === 'address' && p.required));
  if (!existsSync('/usr/lib/ocf/resource.d/heartbeat/Dummy')) {
    t.skip('no OCF agents installed (Debian: resource-agents); the OCF part is not checked');
    return;
  }
  assert.equal(types.find((x) => x.name === 'ocf:heartbeat:Dummy')?.registered, false);
  json('group', 'create', 'ocf');
  const dummy = json<ResourceView>('resource', 'create', 'dummy', '--group', 'ocf', '--type', 'ocf:heartbeat:Dummy', 'fake=yes');
  assert.deepEqual([dummy.type, dummy.parameters], ['ocf:heartbeat:Dummy', { fake: 'yes' }]);
  assert.equal(json<ResourceTypeView[]>('resource', 'types').find((x) => x.name === 'ocf:heartbeat:Dummy')?.registered, true);
  const unknown = fcmError(env, ['resource', 'create', 'd2', '--group', 'ocf', '--type', 'ocf:heartbeat:NoSuchAgent']);
  assert.deepEqual([unknown.status, unknown.code], [3, 'E_NOT_FOUND']);
  assert.equal(run('group', 'delete', 'ocf', '--force', '--yes').status, 0);
});

test('the CLI: create, list, show, depend and delete; online waits (exit 6 when it runs out), --no-wait does not; fcm status shows the groups', () => {
  const web = json<GroupView>('group', 'create', 'web', '--preferred', 'node1,node2', 'failback=immediate', 'restart.maxRestarts=5');
  assert.deepEqual([web.preferredOwners, web.failback, web.restart.maxRestarts], [['node1', 'node2'], 'immediate', 5]);
  // Commands that cannot start: the wait below runs out whether or not nodes run groups.
  json('resource', 'create', 'web-db', '--group', 'web', '--type', 'process', 'command=/nonexistent/fcm-e2e-db');
  json('resource', 'create', 'web-app', '--group', 'web', '--type', 'process', 'command=/nonexistent/fcm-e2e-app', 'deadlines.start=5s');
  const app = json<ResourceView>('resource', 'depend', 'web-app', '--on', 'web-db');
  assert.equal(app.dependsOn, 'web-db');

  const list = run('group', 'list');
  assert.equal(list.status, 0, list.err);
  assert.match(list.out, /^NAME +STATE +OWNER +WANTED +RESOURCES\n(.*\n)*web +Offline +- +offline +0 of 2 online\n/);
  const shown = run('group', 'show', 'web');
  assert.match(shown.out, /\nweb-app +process +Offline +online +- +web-db\nweb-db +process +Offline +online +- +-\n$/);
  assert.deepEqual(json<ResourceView[]>('resource', 'list', '--group', 'web').map((r) => r.name), ['web-app', 'web-db']);

  const status = json<StatusWithGroups>('status');
  assert.deepEqual(status.groups.find((g) => g.name === 'web'), {
    name: 'web', state: 'Offline', desired: 'offline', owner: null,
    resources: [{ name: 'web-app', state: 'Offline', desired: 'online' }, { name: 'web-db', state: 'Offline', desired: 'online' }],
  });
  assert.match(run('status').out, /\nGROUP +STATE +OWNER +WANTED +RESOURCES\n(.*\n)*web +Offline +- +offline +web-app Offline, web-db Offline\n/);

  const accepted = json<GroupView>('group', 'online', 'web', '--no-wait');
  assert.equal(accepted.desired, 'online');
  const waited = fcmError(env, ['group', 'online', 'web', '--timeout', '1s']);
  assert.deepEqual([waited.status, waited.code], [6, 'E_TIMEOUT']);
  assert.match(waited.message, /waiting for group web to be Online; it is /);
  const offline = json<GroupView>('group', 'offline', 'web', '--timeout', '30s');
  assert.deepEqual([offline.desired, offline.move, offline.owner, offline.state], ['offline', null, null, 'Offline']);

  const inUse = fcmError(env, ['resource', 'delete', 'web-db']);
  assert.deepEqual([inUse.status, inUse.code], [4, 'E_IN_USE']);
  assert.match(inUse.hint ?? '', /--force/);
  const withResources = fcmError(env, ['group', 'delete', 'web', '--yes']);
  assert.deepEqual([withResources.status, withResources.code], [4, 'E_IN_USE']);
  const deleted = run('group', 'delete', 'web', '--yes', '--force');
  assert.deepEqual([deleted.status, deleted.out], [0, 'group web deleted with resources web-app, web-db\n']);
  assert.equal(fcmError(env, ['group', 'show', 'web']).status, 3);
});

test('bad input: malformed names and settings exit 2, unknown things 3, refusals 4, every problem named', () => {
  json('group', 'create', 'bad');
  json('resource', 'create', 'bad-a', '--group', 'bad', '--type', 'process', 'command=/bin/true');
  json('resource', 'create', 'bad-b', '--group', 'bad', '--type', 'process', 'command=/bin/true');
  json('resource', 'depend', 'bad-b', '--on', 'bad-a');
  const cases: [string[], number, string, RegExp?][] = [
    [['group', 'create', 'no good'], 2, 'E_USAGE'],
    [['group', 'set', 'bad', 'priority=high', 'failoverPeriod=5', 'nosuch=1'], 2, 'E_USAGE', /priority: .*; failoverPeriod: .*; there is no group setting 'nosuch'/],
    [['resource', 'create', 'x', '--group', 'bad', '--type', 'process', 'isolate=maybe'], 2, 'E_USAGE'],
    [['resource', 'create', 'x', '--group', 'nogroup', '--type', 'process', 'command=/bin/true'], 3, 'E_NOT_FOUND'],
    [['resource', 'create', 'x', '--group', 'bad', '--type', 'proces', 'command=/bin/true'], 3, 'E_NOT_FOUND', /no resource type proces/],
    [['resource', 'create', 'x', '--group', 'bad', '--type', 'process'], 1, 'E_MISSING_PARAMETER', /needs parameter command/],
    [['resource', 'depend', 'bad-a', '--on', 'bad-b'], 4, 'E_DEPENDENCY_CYCLE', /bad-a → bad-b → bad-a/],
    [['resource', 'depend', 'bad-a', '--on', 'bad-b and'], 1, 'E_DEPENDENCY_SYNTAX'],
    [['group', 'move', 'bad', '--to', 'node9'], 3, 'E_NOT_FOUND'],
    [['resource', 'fail', 'bad-a'], 4, 'E_NOT_ONLINE'],
    [['resource', 'show', 'nothing'], 3, 'E_NOT_FOUND'],
  ];
  for (const [args, status, code, message] of cases) {
    const error = fcmError(env, args);
    assert.deepEqual([error.status, error.code], [status, code], args.join(' '));
    if (message !== undefined) assert.match(error.message, message, args.join(' '));
  }
  assert.equal(run('group', 'delete', 'bad', '--force', '--yes').status, 0);
});
