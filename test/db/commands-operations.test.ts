// Table-driven cases for what administrators ask at run time: group online,
// offline, move and cleanup; resource online, offline, fail and cleanup;
// and the restart settings' failGroupOver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { Harness, addNode, baseline, runCases } from './fixture.js';

const PLACED: ClusterCommand[] = [{ type: 'placement.set', group: 'web', node: 'n1' }];
/** web on alpha (epoch 1) with ip1 Online. */
const IP1_ONLINE: ClusterCommand[] = [
  ...PLACED,
  { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1 },
  { type: 'resourceState.set', resource: 'ip1', state: 'Online', node: 'n1', epoch: 1 },
];
const IP1_FAILED: ClusterCommand[] = [...IP1_ONLINE, { type: 'resourceState.set', resource: 'ip1', state: 'Failed', node: 'n1', epoch: 1, reason: 'gone' }];

runCases('group.online / group.offline', [
  {
    name: 'a new group is offline; online wants it online',
    cmd: { type: 'group.online', name: 'web' }, errors: [],
    then: (h) => assert.equal(h.db.getGroup('web')?.desired, 'online'),
  },
  { name: 'online of an online group changes nothing', setup: [{ type: 'group.online', name: 'web' }], cmd: { type: 'group.online', name: 'web' }, errors: [] },
  { name: 'unknown group', cmd: { type: 'group.online', name: 'nope' }, errors: ['E_NOT_FOUND'] },
  { name: 'bad name and unknown field at once', cmd: { type: 'group.offline', name: 'no way', node: 'n1' }, errors: ['E_INVALID_NAME', 'E_UNKNOWN_FIELD'] },
  {
    name: 'offline ends a move',
    setup: [...PLACED, { type: 'group.move', name: 'web', to: 'beta' }],
    cmd: { type: 'group.offline', name: 'web' }, errors: [],
    then: (h) => assert.deepEqual([h.db.getGroup('web')?.desired, h.db.getGroup('web')?.move], ['offline', null]),
  },
]);

runCases('group.move', [
  {
    name: 'to a node, by name: online, and the move remembers where from',
    setup: [...PLACED],
    cmd: { type: 'group.move', name: 'web', to: 'beta' }, errors: [],
    then: (h) => assert.deepEqual([h.db.getGroup('web')?.desired, h.db.getGroup('web')?.move], ['online', { to: 'n2', from: 'n1' }]),
  },
  {
    name: 'to the best other node',
    setup: [...PLACED],
    cmd: { type: 'group.move', name: 'web' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getGroup('web')?.move, { to: null, from: 'n1' }),
  },
  {
    name: 'to where it runs: nothing to move, and an earlier move is called off',
    setup: [...PLACED, { type: 'group.move', name: 'web', to: 'beta' }],
    cmd: { type: 'group.move', name: 'web', to: 'n1' }, errors: [],
    then: (h) => assert.equal(h.db.getGroup('web')?.move, null),
  },
  {
    name: 'a group placed nowhere is brought online',
    cmd: { type: 'group.move', name: 'web', to: null }, errors: [],
    then: (h) => assert.deepEqual([h.db.getGroup('web')?.desired, h.db.getGroup('web')?.move], ['online', null]),
  },
  {
    name: 'a group placed nowhere, to a node',
    cmd: { type: 'group.move', name: 'web', to: 'gamma' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getGroup('web')?.move, { to: 'n3', from: null }),
  },
  { name: 'unknown group and node', cmd: { type: 'group.move', name: 'nope', to: 'zeta' }, errors: ['E_NOT_FOUND', 'E_NOT_FOUND'] },
  { name: 'to a bad value', cmd: { type: 'group.move', name: 'web', to: 7 }, errors: ['E_INVALID_VALUE'] },
  {
    name: 'to a paused node: refused even when forced, since nothing would place it there',
    setup: [{ type: 'node.set', node: 'beta', paused: true }],
    cmd: { type: 'group.move', name: 'web', to: 'beta' }, force: true, errors: ['E_NODE_PAUSED'],
  },
  { name: 'to a witness agent', setup: [addNode(4, 'wit', { kind: 'witness-agent' })], cmd: { type: 'group.move', name: 'web', to: 'wit' }, errors: ['E_INVALID_VALUE'] },
  {
    name: 'to a node that is no possible owner of the group and of a resource',
    setup: [
      { type: 'group.set', name: 'web', settings: { possibleOwners: ['alpha', 'beta'] } },
      { type: 'resource.set', name: 'app', settings: { possibleOwners: ['alpha'] } },
    ],
    cmd: { type: 'group.move', name: 'web', to: 'gamma' }, errors: ['E_NOT_POSSIBLE_OWNER', 'E_NOT_POSSIBLE_OWNER'],
  },
  {
    name: 'no other node may run it',
    setup: [{ type: 'group.set', name: 'web', settings: { preferredOwners: [], possibleOwners: ['alpha', 'beta'] } }, { type: 'node.set', node: 'beta', paused: true }, ...PLACED],
    cmd: { type: 'group.move', name: 'web' }, errors: ['E_NO_CANDIDATE'],
  },
  {
    name: 'anti-affinity with a group on the target is a warning',
    setup: [
      { type: 'group.set', name: 'web', settings: { antiAffinityClasses: ['front'] } },
      { type: 'group.set', name: 'db', settings: { antiAffinityClasses: ['front'] } },
      { type: 'placement.set', group: 'db', node: 'n2' },
    ],
    cmd: { type: 'group.move', name: 'web', to: 'beta' }, errors: [], warnings: ['E_ANTI_AFFINITY'],
  },
  {
    name: 'the move lasts through the step that places the group nowhere, and ends with the placement on a node',
    setup: [...PLACED, { type: 'group.move', name: 'web', to: 'beta' }, { type: 'placement.set', group: 'web', node: null, expectedEpoch: 1 }],
    cmd: { type: 'placement.set', group: 'web', node: 'n2', expectedEpoch: 2 }, errors: [],
    then: (h) => assert.deepEqual([h.db.getGroup('web')?.move, h.db.getGroup('web')?.desired], [null, 'online']),
  },
]);

runCases('group.cleanup', [
  {
    name: 'failed resources of the current placement become Offline; the request count grows',
    setup: [...IP1_FAILED],
    cmd: { type: 'group.cleanup', name: 'web' }, errors: [],
    then: (h) => {
      assert.deepEqual(h.db.getResourceState('ip1'), { resource: 'ip1', state: 'Offline', node: 'n1', epoch: 1, since: h.at, reason: 'cleaned up by an administrator' });
      assert.equal(h.db.getGroup('web')?.cleanupRequest, 1);
      assert.equal(h.db.groupState('web'), 'Offline');
    },
  },
  {
    name: 'a Failed record of an earlier placement is left as it is',
    setup: [...IP1_FAILED, { type: 'placement.set', group: 'web', node: 'n2' }],
    cmd: { type: 'group.cleanup', name: 'web' }, errors: [],
    then: (h) => assert.deepEqual([h.db.getResourceState('ip1')?.state, h.db.getResourceState('ip1')?.epoch], ['Failed', 1]),
  },
  { name: 'nothing failed: only the count grows', cmd: { type: 'group.cleanup', name: 'web' }, errors: [], then: (h) => assert.equal(h.db.getGroup('web')?.cleanupRequest, 1) },
  { name: 'unknown group', cmd: { type: 'group.cleanup', name: 'nope' }, errors: ['E_NOT_FOUND'] },
]);

runCases('resource.online / resource.offline', [
  {
    name: 'offline warns about the dependents that go with it',
    cmd: { type: 'resource.offline', name: 'ip1' }, errors: [], warnings: ['E_IN_USE'],
    then: (h) => assert.deepEqual(h.db.getResourceRequest('ip1'), { resource: 'ip1', desired: 'offline', failRequest: 0, cleanupRequest: 0 }),
  },
  { name: 'offline of a resource nothing needs', cmd: { type: 'resource.offline', name: 'app' }, errors: [] },
  {
    name: 'offline of a resource that an or still covers',
    setup: [
      { type: 'resource.create', name: 'ip2', group: 'web', resourceType: 'ip', parameters: { address: '10.0.0.51/24' } },
      { type: 'resource.depend', name: 'app', on: 'ip1 or ip2' },
    ],
    cmd: { type: 'resource.offline', name: 'ip1' }, errors: [],
  },
  {
    name: 'online in an offline group warns that it waits for the group',
    setup: [{ type: 'resource.offline', name: 'ip1' }],
    cmd: { type: 'resource.online', name: 'ip1' }, errors: [], warnings: ['E_GROUP_OFFLINE'],
    then: (h) => assert.equal(h.db.getResourceRequest('ip1')?.desired, 'online'),
  },
  {
    name: 'online of a resource whose dependency is kept offline',
    setup: [{ type: 'group.online', name: 'web' }, { type: 'resource.offline', name: 'ip1' }],
    cmd: { type: 'resource.online', name: 'app' }, errors: [], warnings: ['E_DEPENDENCY_OFFLINE'],
  },
  { name: 'online of an online resource in an online group', setup: [{ type: 'group.online', name: 'web' }], cmd: { type: 'resource.online', name: 'app' }, errors: [] },
  { name: 'unknown resource', cmd: { type: 'resource.online', name: 'ghost' }, errors: ['E_NOT_FOUND'] },
]);

runCases('resource.fail / resource.cleanup', [
  {
    name: 'fail an online resource: the request count grows, the state is the node\'s to report',
    setup: [...IP1_ONLINE],
    cmd: { type: 'resource.fail', name: 'ip1' }, errors: [],
    then: (h) => {
      assert.equal(h.db.getResourceRequest('ip1')?.failRequest, 1);
      assert.equal(h.db.getResourceState('ip1')?.state, 'Online');
    },
  },
  { name: 'fail an offline resource', cmd: { type: 'resource.fail', name: 'ip1' }, errors: ['E_NOT_ONLINE'] },
  { name: 'fail a resource online in an earlier placement', setup: [...IP1_ONLINE, ...PLACED], cmd: { type: 'resource.fail', name: 'ip1' }, errors: ['E_NOT_ONLINE'] },
  { name: 'fail an unknown resource', cmd: { type: 'resource.fail', name: 'ghost' }, errors: ['E_NOT_FOUND'] },
  {
    name: 'cleanup of a failed resource',
    setup: [...IP1_FAILED],
    cmd: { type: 'resource.cleanup', name: 'ip1' }, errors: [],
    then: (h) => {
      assert.deepEqual([h.db.getResourceState('ip1')?.state, h.db.getResourceRequest('ip1')?.cleanupRequest], ['Offline', 1]);
      assert.equal(h.db.getResourceState('app')?.state, 'Offline');
    },
  },
  {
    name: 'cleanup of a resource that has not failed changes only the count',
    setup: [...IP1_ONLINE],
    cmd: { type: 'resource.cleanup', name: 'ip1' }, errors: [],
    then: (h) => assert.deepEqual([h.db.getResourceState('ip1')?.state, h.db.getResourceRequest('ip1')?.cleanupRequest], ['Online', 1]),
  },
]);

runCases('restart settings: failGroupOver', [
  {
    name: 'a resource\'s own restart settings start from its group\'s',
    setup: [{ type: 'group.set', name: 'web', settings: { restart: { failGroupOver: false } } }],
    cmd: { type: 'resource.set', name: 'app', settings: { restart: { maxRestarts: 1 } } }, errors: [],
    then: (h) => assert.deepEqual(h.db.getResource('app')?.restart, { maxRestarts: 1, period: 900_000, delay: 0, failGroupOver: false }),
  },
  { name: 'must be true or false', cmd: { type: 'group.set', name: 'web', settings: { restart: { failGroupOver: 'no' } } }, errors: ['E_INVALID_VALUE'] },
]);

test('a group without resources is Online while placed on a node, else Offline', () => {
  const h = new Harness();
  h.must(addNode(1, 'alpha'));
  h.must({ type: 'group.create', name: 'empty' });
  assert.equal(h.db.groupState('empty'), 'Offline');
  h.must({ type: 'placement.set', group: 'empty', node: 'alpha' });
  assert.equal(h.db.groupState('empty'), 'Online');
  h.must({ type: 'placement.set', group: 'empty', node: null });
  assert.equal(h.db.groupState('empty'), 'Offline');
});

test('currentState: a record of an earlier placement counts as Offline', () => {
  const h = baseline();
  for (const cmd of IP1_ONLINE) h.must(cmd);
  assert.deepEqual([h.db.currentState('ip1'), h.db.currentState('app'), h.db.currentState('ghost')], ['Online', 'Offline', undefined]);
  h.must({ type: 'placement.set', group: 'web', node: 'n2' });
  assert.equal(h.db.currentState('ip1'), 'Offline');
});

test('audit summaries name the move target', () => {
  const h = baseline();
  h.must({ type: 'group.move', name: 'web', to: 'beta' });
  h.must({ type: 'group.move', name: 'web' });
  assert.deepEqual(h.db.history({ type: 'group.move' }).map((r) => r.summary), ['group.move web → beta', 'group.move web → another node']);
});
