// fcm group and fcm resource against a test agent: what each command sends,
// how it waits for the target state (spinner-free here: stderr is no TTY),
// its renderings, JSON shapes and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupChange, GroupView, NodeView, ResourceChange, ResourceView } from '../../src/client/api.js';
import { groupView, resourceView } from './views-fixture.js';
import { withAgent } from './with-agent.js';

const change = (group: GroupView, warnings: GroupChange['warnings'] = []): GroupChange => ({ index: 9, group, warnings });
const resourceChange = (resource: ResourceView, warnings: ResourceChange['warnings'] = []): ResourceChange => ({ index: 9, resource, warnings });
const ONLINE_APP = resourceView('app', { state: 'Online', node: 'node2' });

/** A group.show that answers `views` in turn, then the last one for ever. */
function showing(...views: GroupView[]): () => Promise<GroupView> {
  let i = 0;
  return async () => views[Math.min(i++, views.length - 1)] as GroupView;
}

test('group list and show: a table and the group in detail for people, the views themselves with --json', async () => {
  const web = groupView('web', { state: 'Online', desired: 'online', owner: 'node1', epoch: 3, resources: [ONLINE_APP] });
  const db = groupView('db', { move: { to: null, from: 'node2' }, desired: 'online' });
  await withAgent({ 'group.list': async () => [web, db], 'group.show': async () => web }, async (run) => {
    const list = await run(['group', 'list']);
    assert.equal(list.out, 'NAME  STATE    OWNER  WANTED                RESOURCES\nweb   Online   node1  online                1 of 1 online\ndb    Offline  -      move to another node  none\n');
    assert.deepEqual(JSON.parse((await run(['group', 'list', '--json'])).out), [web, db]);
    const show = await run(['group', 'show', 'web']);
    assert.match(show.out, /^name: +web\nstate: +Online\nowner: +node1\nwanted: +online\nepoch: +3\npreferred owners: +node1, node2\npossible owners: +every node\n/);
    assert.match(show.out, /\nrestart: +3 in 15m, after 1s; then fail the group over\n\nNAME +TYPE +STATE +WANTED +NODE +DEPENDS ON\napp +process +Online +online +node2 +-\n$/);
    assert.deepEqual(JSON.parse((await run(['group', 'show', 'web', '--json'])).out), web);
  });
});

test('group create sends typed settings, --preferred among them; malformed settings are exit 2 and send nothing', async () => {
  await withAgent({ 'group.create': async (p) => change(groupView(p.group as string)) }, async (run, methods, requests) => {
    const made = await run(['group', 'create', 'web', '--preferred', 'node2,node1', 'priority=1000', 'restart.delay=2s', '--json']);
    assert.equal(made.exitCode, 0, made.err);
    assert.equal((JSON.parse(made.out) as GroupView).name, 'web');
    assert.deepEqual(requests()[0]?.params, { group: 'web', settings: { preferredOwners: ['node2', 'node1'], priority: 1000, restart: { delay: 2000 } } });
    const both = await run(['group', 'create', 'web', '--preferred', 'node1', 'preferredOwners=node2']);
    assert.equal(both.exitCode, 2);
    const bad = await run(['group', 'create', 'web', 'priority=high', 'failback=later', '--json']);
    assert.equal(bad.exitCode, 2);
    const { error } = JSON.parse(bad.out) as { error: { code: string; message: string } };
    assert.equal(error.code, 'E_USAGE');
    assert.match(error.message, /priority: 'high' is not a whole number; failback: 'later' is not one of never, immediate, window/);
    assert.deepEqual(methods(), ['group.create']);
  });
});

test('group online waits until the group is placed with its wanted resources Online, then prints it', async () => {
  const pending = groupView('web', { desired: 'online', state: 'Pending', owner: 'node2', resources: [resourceView('app', { state: 'OnlinePending' })] });
  const online = groupView('web', { desired: 'online', state: 'Online', owner: 'node2', resources: [ONLINE_APP] });
  await withAgent({
    'group.online': async () => change(groupView('web', { desired: 'online' })),
    'group.show': showing(groupView('web', { desired: 'online' }), pending, online),
  }, async (run, methods) => {
    const done = await run(['group', 'online', 'web', '--json']);
    assert.equal(done.exitCode, 0, done.err);
    assert.deepEqual(JSON.parse(done.out), online);
    assert.deepEqual(methods(), ['group.online', 'group.show', 'group.show', 'group.show']);
  });
});

test('a wait that runs out exits 6 saying where the group stands; --no-wait prints what was accepted at once', async () => {
  const accepted = groupView('web', { desired: 'online', resources: [resourceView('app')] });
  await withAgent({ 'group.online': async () => change(accepted), 'group.show': async () => accepted }, async (run, methods) => {
    const late = await run(['group', 'online', 'web', '--timeout', '300ms']);
    assert.equal(late.exitCode, 6);
    assert.match(late.err, /^error: timed out after 300 ms waiting for group web to be Online; it is Offline and placed nowhere, 0 of 1 online\nhint: the change is committed/);
    const json = await run(['group', 'online', 'web', '--timeout', '300ms', '--json']);
    assert.equal((JSON.parse(json.out) as { error: { code: string } }).error.code, 'E_TIMEOUT');
    const before = methods().length;
    const quick = await run(['group', 'online', 'web', '--no-wait', '--json']);
    assert.deepEqual([quick.exitCode, JSON.parse(quick.out)], [0, accepted]);
    assert.deepEqual(methods().slice(before), ['group.online']);
  });
});

test('group offline waits until it is placed nowhere and Offline', async () => {
  const stopping = groupView('web', { state: 'Pending', owner: 'node1' });
  const stopped = groupView('web');
  await withAgent({ 'group.offline': async () => change(stopping), 'group.show': showing(stopping, stopped) }, async (run) => {
    const done = await run(['group', 'offline', 'web', '--json']);
    assert.deepEqual(JSON.parse(done.out), stopped);
  });
});

test('group move: --to waits for that node; without, for any node but the one it ran on', async () => {
  const online = (owner: string): GroupView => groupView('web', { state: 'Online', desired: 'online', owner, resources: [ONLINE_APP] });
  const moving = groupView('web', { desired: 'online', owner: 'node1', state: 'Online', resources: [ONLINE_APP], move: { to: 'node3', from: 'node1' } });
  await withAgent({
    'group.move': async (p) => change(p.to === undefined ? { ...moving, move: { to: null, from: 'node1' } } : moving),
    'group.show': showing(moving, groupView('web', { desired: 'online' }), online('node3')),
  }, async (run, _methods, requests) => {
    const to = await run(['group', 'move', 'web', '--to', 'node3', '--json']);
    assert.equal((JSON.parse(to.out) as GroupView).owner, 'node3');
    assert.deepEqual(requests()[0]?.params, { group: 'web', to: 'node3' });
    const anywhere = await run(['group', 'move', 'web', '--json']);
    assert.equal((JSON.parse(anywhere.out) as GroupView).owner, 'node3');
    assert.deepEqual(requests().at(-2)?.params, { group: 'web' });
  });
  // Already on the target: the database records no move, and nothing is waited for.
  await withAgent({ 'group.move': async () => change(online('node3')) }, async (run, methods) => {
    assert.equal((await run(['group', 'move', 'web', '--to', 'node3'])).exitCode, 0);
    assert.deepEqual(methods(), ['group.move']);
  });
});

test('group delete asks first (refused without --yes where nobody can answer); --force is passed on', async () => {
  const web = groupView('web', { resources: [resourceView('app')] });
  await withAgent({
    'group.show': async () => web,
    'group.delete': async (p) => ({ index: 12, deleted: p.group, resources: ['app'] }),
  }, async (run, methods, requests) => {
    const refused = await run(['group', 'delete', 'web']);
    assert.equal(refused.exitCode, 4);
    assert.match(refused.err, /not confirmed: Delete group web and its resources app\?/);
    assert.deepEqual(methods(), ['group.show']);
    const done = await run(['group', 'delete', 'web', '--yes', '--force']);
    assert.deepEqual([done.exitCode, done.out], [0, 'group web deleted with resources app\n']);
    assert.deepEqual(requests().at(-1)?.params, { group: 'web', force: true });
  });
});

test('resource create sends the type, its parameters and typed settings; warnings go to stderr', async () => {
  const warning = { code: 'E_INVALID_VALUE', severity: 'warning', message: 'the quick check runs less often than the thorough one' };
  await withAgent({ 'resource.create': async (p) => resourceChange(resourceView(p.resource as string), [warning as ResourceChange['warnings'][number]]) }, async (run, _methods, requests) => {
    const made = await run(['resource', 'create', 'vip', '--group', 'web', '--type', 'ocf:heartbeat:IPaddr2', 'ip=10.0.0.9', 'checkIntervals.quick=5m']);
    assert.equal(made.exitCode, 0, made.err);
    assert.equal(made.err, 'warning: the quick check runs less often than the thorough one\n');
    assert.match(made.out, /^name: +vip\ngroup: +web\ntype: +process\nstate: +Offline\n/);
    assert.deepEqual(requests()[0]?.params, {
      resource: 'vip', group: 'web', type: 'ocf:heartbeat:IPaddr2', parameters: { ip: '10.0.0.9' }, settings: { checkIntervals: { quick: 300_000 } }, force: false,
    });
    assert.equal((await run(['resource', 'create', 'x', '--group', 'web', '--type', 'lsb:x'])).exitCode, 2);
  });
});

test('resource set removes a parameter with key=; depend sends the expression as written', async () => {
  await withAgent({
    'resource.set': async (p) => resourceChange(resourceView(p.resource as string)),
    'resource.depend': async (p) => resourceChange(resourceView(p.resource as string, { dependsOn: p.on as string })),
  }, async (run, _methods, requests) => {
    await run(['resource', 'set', 'app', 'cwd=', 'user=www', 'restart=']);
    assert.deepEqual(requests()[0]?.params, { resource: 'app', parameters: { cwd: null, user: 'www' }, settings: { restart: null }, force: false });
    const depend = await run(['resource', 'depend', 'app', '--on', 'ip and (d1 or d2)', '--json']);
    assert.equal((JSON.parse(depend.out) as ResourceView).dependsOn, 'ip and (d1 or d2)');
    assert.deepEqual(requests()[1]?.params, { resource: 'app', on: 'ip and (d1 or d2)' });
  });
});

test('resource online waits for Online, except in an offline group (the warning says it starts with the group); offline waits until it stops', async () => {
  const groupOffline = { code: 'E_GROUP_OFFLINE', severity: 'warning', message: 'group web is offline: app starts when the group comes online' } as const;
  let shows = 0;
  await withAgent({
    'resource.online': async (p) => resourceChange(resourceView(p.resource as string), p.resource === 'lone' ? [groupOffline] : []),
    'resource.offline': async (p) => resourceChange(resourceView(p.resource as string, { state: 'Online', desired: 'offline' })),
    'resource.show': async (p) => resourceView(p.resource as string, { state: ++shows >= 2 ? (p.resource === 'app' ? 'Online' : 'Offline') : 'OnlinePending' }),
  }, async (run, methods) => {
    const lone = await run(['resource', 'online', 'lone']);
    assert.deepEqual([lone.exitCode, lone.err], [0, 'warning: group web is offline: app starts when the group comes online\n']);
    assert.deepEqual(methods(), ['resource.online']);
    const app = await run(['resource', 'online', 'app', '--json']);
    assert.equal((JSON.parse(app.out) as ResourceView).state, 'Online');
    shows = 0;
    const off = await run(['resource', 'offline', 'db', '--json']);
    assert.equal((JSON.parse(off.out) as ResourceView).state, 'Offline');
  });
});

test('resource fail and cleanup ask once and wait for nothing; a refusal keeps its code and exit status', async () => {
  await withAgent({
    'resource.fail': async () => Promise.reject({ code: 'E_NOT_ONLINE', message: 'resource app is Offline: only an online resource can fail', hint: 'bring it online first' }),
    'resource.cleanup': async (p) => resourceChange(resourceView(p.resource as string, { cleanupRequest: 1 })),
  }, async (run, methods) => {
    const fail = await run(['resource', 'fail', 'app']);
    assert.deepEqual([fail.exitCode, fail.err], [4, 'error: resource app is Offline: only an online resource can fail\nhint: bring it online first\n']);
    const cleanup = await run(['resource', 'cleanup', 'app', '--json']);
    assert.equal((JSON.parse(cleanup.out) as ResourceView).cleanupRequest, 1);
    assert.deepEqual(methods(), ['resource.fail', 'resource.cleanup']);
  });
});

test('resource list and types: tables for people; --group is passed on', async () => {
  const types = [
    { name: 'ip', kind: 'ip', source: null, builtin: true, registered: true, summary: 'a floating address', problem: null,
      parameters: [{ name: 'address', type: 'string', required: true, default: null, description: 'address/prefix' }, { name: 'netns', type: 'string', required: false, default: null, description: 'netns' }] },
    { name: 'ocf:heartbeat:Dummy', kind: 'ocf', source: '/usr/lib/ocf/resource.d/heartbeat/Dummy', builtin: false, registered: false, summary: 'Example', problem: null,
      parameters: [{ name: 'fake', type: 'string', required: false, default: 'dummy', description: 'fake' }] },
  ];
  await withAgent({ 'resource.list': async () => [ONLINE_APP], 'resource.types': async () => types }, async (run, _methods, requests) => {
    const list = await run(['resource', 'list', '--group', 'web']);
    assert.equal(list.out, 'NAME  GROUP  TYPE     STATE   WANTED  NODE   DEPENDS ON\napp   web    process  Online  online  node2  -\n');
    assert.deepEqual(requests()[0]?.params, { group: 'web' });
    const shown = await run(['resource', 'types']);
    assert.equal(shown.out, 'NAME                 KIND  REGISTERED  PARAMETERS (* required)\nip                   ip    yes         address*, netns\nocf:heartbeat:Dummy  ocf   no          fake\n');
    assert.deepEqual(JSON.parse((await run(['resource', 'types', '--json'])).out), types);
  });
});

test('node pause --drain waits, after Paused, until no group is placed on the node', async () => {
  const paused: NodeView = { id: 'n2', name: 'node2', address: '127.0.0.1:2', state: 'Paused', role: 'voter', leader: false, kind: 'node', lastHeardMs: 1, matchIndex: 1, leaseRemainingMs: 900 };
  let lists = 0;
  await withAgent({
    'node.pause': async () => paused,
    'group.list': async () => [groupView('web', { owner: ++lists >= 2 ? 'node1' : 'node2' })],
  }, async (run, methods) => {
    const drained = await run(['node', 'pause', 'node2', '--drain']);
    assert.equal(drained.exitCode, 0, drained.err);
    assert.deepEqual(methods(), ['node.pause', 'group.list', 'group.list']);
  });
});
