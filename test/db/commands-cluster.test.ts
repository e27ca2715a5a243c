// Table-driven cases for node, quorum, disk and admin key commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNode, baseline, fingerprint, hostKey, runCases } from './fixture.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';

runCases('node.add', [
  {
    name: 'valid, with defaults', cmd: addNode(4, 'delta'), errors: [],
    then: (h) => assert.deepEqual(h.db.getNode('delta'), {
      id: 'n4', name: 'delta', address: '10.0.0.4:2222', hostKey: hostKey(4), incarnation: 'inc-4', voteWeight: 1, kind: 'node', paused: false, drain: false, resumed: null,
    }),
  },
  { name: 'witness agent without a vote', cmd: addNode(4, 'w', { kind: 'witness-agent', voteWeight: 0 }), errors: [] },
  { name: 'id taken', cmd: addNode(4, 'delta', { id: 'n1' }), errors: ['E_EXISTS'] },
  { name: 'name taken', cmd: addNode(4, 'alpha'), errors: ['E_EXISTS'] },
  { name: 'name equal to another node id', cmd: addNode(4, 'n2'), errors: ['E_EXISTS'] },
  { name: 'id equal to another node name', cmd: addNode(4, 'delta', { id: 'beta' }), errors: ['E_EXISTS'] },
  { name: 'address taken', cmd: addNode(4, 'delta', { address: '10.0.0.1:2222' }), errors: ['E_EXISTS'] },
  { name: 'host key taken (other comment)', cmd: addNode(4, 'delta', { hostKey: `${hostKey(1).split(' ').slice(0, 2).join(' ')} other` }), errors: ['E_EXISTS'] },
  {
    name: 'every problem at once',
    cmd: { type: 'node.add', id: 'bad id', name: '-x', address: '10.0.0.9', hostKey: 'not a key', incarnation: 'a b', voteWeight: 2, kind: 'arbiter', colour: 'red' },
    errors: ['E_INVALID_NAME', 'E_INVALID_NAME', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_UNKNOWN_FIELD'],
  },
  { name: 'required fields', cmd: { type: 'node.add' }, errors: ['E_REQUIRED', 'E_REQUIRED', 'E_REQUIRED', 'E_REQUIRED', 'E_REQUIRED'] },
]);

runCases('node.remove', [
  {
    name: 'an idle node; its owner lists shrink',
    setup: [addNode(4, 'delta'), { type: 'group.create', name: 'g', settings: { possibleOwners: ['gamma', 'beta'], preferredOwners: ['gamma'] } }],
    cmd: { type: 'node.remove', node: 'gamma' }, errors: [], warnings: ['E_IN_USE'],
    then: (h) => {
      assert.equal(h.db.getNode('n3'), undefined);
      assert.deepEqual([h.db.getGroup('g')?.possibleOwners, h.db.getGroup('g')?.preferredOwners], [['n2'], []]);
    },
  },
  { name: 'unknown node', cmd: { type: 'node.remove', node: 'zeta' }, errors: ['E_NOT_FOUND'] },
  { name: 'owning a group', setup: [addNode(4, 'delta'), { type: 'placement.set', group: 'web', node: 'gamma' }], cmd: { type: 'node.remove', node: 'n3' }, errors: ['E_IN_USE'] },
  {
    name: 'owning a group, forced: the group is placed nowhere in a new epoch',
    setup: [addNode(4, 'delta'), { type: 'placement.set', group: 'web', node: 'gamma' }],
    cmd: { type: 'node.remove', node: 'n3' }, force: true, errors: [], warnings: ['E_IN_USE'],
    then: (h) => assert.deepEqual(h.db.getPlacement('web'), { group: 'web', node: null, epoch: 2, at: h.at }),
  },
  {
    name: 'the only possible owner of a group',
    setup: [addNode(4, 'delta'), { type: 'group.create', name: 'g', settings: { possibleOwners: ['gamma'] } }],
    cmd: { type: 'node.remove', node: 'gamma' }, force: true, errors: ['E_IN_USE'],
  },
  {
    name: 'leaving two voters without a witness',
    setup: [addNode(4, 'delta', { voteWeight: 0 })],
    forcedSetup: [{ type: 'node.remove', node: 'gamma' }],
    cmd: { type: 'node.remove', node: 'delta' }, errors: [],
  },
  { name: 'three to two voters', cmd: { type: 'node.remove', node: 'gamma' }, errors: ['E_QUORUM_AT_RISK'] },
  {
    name: 'three to two voters with a witness',
    setup: [{ type: 'quorum.set', mode: 'node-and-witness', witness: 'share:/mnt/witness' }],
    cmd: { type: 'node.remove', node: 'gamma' }, errors: [],
  },
  { name: 'the last voter', empty: true, setup: [addNode(1, 'alpha')], cmd: { type: 'node.remove', node: 'alpha' }, errors: ['E_LAST_VOTER'] },
  { name: 'the last voter, forced', empty: true, setup: [addNode(1, 'alpha')], cmd: { type: 'node.remove', node: 'alpha' }, force: true, errors: [], warnings: ['E_LAST_VOTER'] },
]);

runCases('node.set', [
  {
    name: 'pause with drain, by name',
    cmd: { type: 'node.set', node: 'beta', paused: true, drain: true }, errors: [],
    then: (h) => assert.deepEqual([h.db.getNode('n2')?.paused, h.db.getNode('n2')?.drain], [true, true]),
  },
  {
    name: 'resume clears drain',
    setup: [{ type: 'node.set', node: 'beta', paused: true, drain: true }],
    cmd: { type: 'node.set', node: 'beta', paused: false }, errors: [],
    then: (h) => assert.equal(h.db.getNode('n2')?.drain, false),
  },
  {
    name: 'a resume records its failback with the placement epoch counter; policy unless told',
    setup: [{ type: 'placement.set', group: 'web', node: 'n1' }, { type: 'node.set', node: 'beta', paused: true }],
    cmd: { type: 'node.set', node: 'beta', paused: false, failback: 'never' }, errors: [],
    then: (h) => {
      assert.deepEqual(h.db.getNode('n2')?.resumed, { failback: 'never', epoch: 1 });
      assert.deepEqual(ClusterDatabase.restore(h.db.snapshot()).getNode('n2')?.resumed, { failback: 'never', epoch: 1 }, 'kept in snapshots');
      h.must({ type: 'node.set', node: 'beta', paused: true });
      assert.equal(h.db.getNode('n2')?.resumed, null, 'a pause forgets the resume');
      h.must({ type: 'node.set', node: 'beta', paused: false });
      assert.deepEqual(h.db.getNode('n2')?.resumed, { failback: 'policy', epoch: 1 });
      h.must({ type: 'node.set', node: 'beta', paused: false, failback: 'now' });
      assert.deepEqual(h.db.getNode('n2')?.resumed, { failback: 'policy', epoch: 1 }, 'resuming a running node records nothing');
    },
  },
  { name: 'failback without a resume', cmd: { type: 'node.set', node: 'beta', paused: true, failback: 'now' }, errors: ['E_INVALID_VALUE'] },
  { name: 'failback of an unknown kind', cmd: { type: 'node.set', node: 'beta', paused: false, failback: 'later' } as never, errors: ['E_INVALID_VALUE'] },
  { name: 'drain without pause', cmd: { type: 'node.set', node: 'beta', drain: true }, errors: ['E_INVALID_VALUE'] },
  { name: 'new incarnation and address', cmd: { type: 'node.set', node: 'n2', incarnation: 'inc-2b', address: 'beta.lan:2222' }, errors: [] },
  { name: 'rename onto another name', cmd: { type: 'node.set', node: 'n2', name: 'alpha' }, errors: ['E_EXISTS'] },
  { name: 'rename to itself', cmd: { type: 'node.set', node: 'n2', name: 'beta' }, errors: [] },
  { name: 'nothing to change', cmd: { type: 'node.set', node: 'n2' }, errors: ['E_REQUIRED'] },
  { name: 'kind cannot change', cmd: { type: 'node.set', node: 'n2', kind: 'witness-agent' }, errors: ['E_UNKNOWN_FIELD'] },
  { name: 'unknown node', cmd: { type: 'node.set', node: 'zeta', paused: true }, errors: ['E_NOT_FOUND'] },
  { name: 'taking a vote away: three to two voters', cmd: { type: 'node.set', node: 'n3', voteWeight: 0 }, errors: ['E_QUORUM_AT_RISK'] },
  { name: 'the last vote', empty: true, setup: [addNode(1, 'alpha')], cmd: { type: 'node.set', node: 'n1', voteWeight: 0 }, errors: ['E_LAST_VOTER'] },
]);

runCases('quorum.set', [
  {
    name: 'disk witness',
    cmd: { type: 'quorum.set', mode: 'node-and-witness', witness: 'disk:/dev/disk/by-id/quorum' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getQuorum(), { mode: 'node-and-witness', witness: { kind: 'disk', path: '/dev/disk/by-id/quorum' } }),
  },
  {
    name: 'mode change keeps the witness',
    setup: [{ type: 'quorum.set', mode: 'node-and-witness', witness: 'share:/mnt/w' }],
    cmd: { type: 'quorum.set', mode: 'witness-only' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getQuorum().witness, { kind: 'share', dir: '/mnt/w' }),
  },
  {
    name: 'node-majority drops the witness',
    setup: [{ type: 'quorum.set', mode: 'node-and-witness', witness: 'share:/mnt/w' }],
    cmd: { type: 'quorum.set', mode: 'node-majority' }, errors: [],
    then: (h) => assert.equal(h.db.getQuorum().witness, null),
  },
  { name: 'witness needed', cmd: { type: 'quorum.set', mode: 'witness-only' }, errors: ['E_REQUIRED'] },
  { name: 'witness with node-majority', cmd: { type: 'quorum.set', mode: 'node-majority', witness: 'share:/mnt/w' }, errors: ['E_INVALID_VALUE'] },
  { name: 'bad witness and mode', cmd: { type: 'quorum.set', mode: 'majority', witness: 'nfs:/x' }, errors: ['E_INVALID_VALUE', 'E_INVALID_VALUE'] },
  {
    name: 'two nodes without a witness',
    empty: true,
    setup: [addNode(1, 'alpha'), addNode(2, 'beta', { voteWeight: 0 }), { type: 'quorum.set', mode: 'node-and-witness', witness: 'share:/w' }, { type: 'node.set', node: 'beta', voteWeight: 1 }],
    cmd: { type: 'quorum.set', mode: 'node-majority' }, errors: ['E_QUORUM_AT_RISK'],
  },
]);

runCases('disk.add / disk.remove', [
  {
    name: 'add', cmd: { type: 'disk.add', id: 'd2', path: '/dev/sdc', sizeBytes: 1 << 20, ioTimeout: 500, watchdogTime: '10s' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getDisk('d2'), { id: 'd2', path: '/dev/sdc', sizeBytes: 1 << 20, ioTimeout: 500, watchdogTime: 10_000 }),
  },
  { name: 'id and path taken', cmd: { type: 'disk.add', id: 'd1', path: '/dev/disk/by-id/shared-1', sizeBytes: 1 << 20, ioTimeout: '1s', watchdogTime: '5s' }, errors: ['E_EXISTS', 'E_EXISTS'] },
  {
    name: 'bad values',
    cmd: { type: 'disk.add', id: 'd2', path: 'sdc', sizeBytes: 4096, ioTimeout: '10ms', watchdogTime: 'soon' },
    errors: ['E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_DURATION'],
  },
  { name: 'remove in use', cmd: { type: 'disk.remove', id: 'd1' }, errors: ['E_IN_USE'] },
  { name: 'remove unknown', cmd: { type: 'disk.remove', id: 'd9' }, errors: ['E_NOT_FOUND'] },
  {
    name: 'remove the witness disk',
    setup: [
      { type: 'disk.add', id: 'q', path: '/dev/q', sizeBytes: 1 << 20, ioTimeout: '1s', watchdogTime: '5s' },
      { type: 'quorum.set', mode: 'node-and-witness', witness: 'disk:/dev/q' },
    ],
    cmd: { type: 'disk.remove', id: 'q' }, errors: ['E_IN_USE'],
  },
  {
    name: 'remove after its resource is gone',
    setup: [{ type: 'resource.delete', name: 'disk1' }],
    cmd: { type: 'disk.remove', id: 'd1' }, errors: [],
  },
]);

runCases('adminKey.add / adminKey.remove', [
  {
    name: 'add an operator', cmd: { type: 'adminKey.add', name: 'ops', publicKey: hostKey(101), fingerprint: fingerprint(101), role: 'operator' }, errors: [],
    then: (h) => assert.equal(h.db.getAdminKey(fingerprint(101))?.name, 'ops'),
  },
  {
    name: 'name, key and fingerprint taken',
    cmd: { type: 'adminKey.add', name: 'root', publicKey: hostKey(100), fingerprint: fingerprint(100), role: 'admin' },
    errors: ['E_EXISTS', 'E_EXISTS', 'E_EXISTS'],
  },
  {
    name: 'bad key, fingerprint and role',
    cmd: { type: 'adminKey.add', name: 'x', publicKey: 'ssh-ed25519', fingerprint: 'MD5:aa', role: 'root' },
    errors: ['E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE'],
  },
  { name: 'remove the last admin', cmd: { type: 'adminKey.remove', name: 'root' }, errors: ['E_LAST_ADMIN'] },
  { name: 'remove the last admin, forced', cmd: { type: 'adminKey.remove', name: 'root' }, force: true, errors: [], warnings: ['E_LAST_ADMIN'] },
  {
    name: 'remove one of two admins',
    setup: [{ type: 'adminKey.add', name: 'root2', publicKey: hostKey(102), fingerprint: fingerprint(102), role: 'admin' }],
    cmd: { type: 'adminKey.remove', name: 'root' }, errors: [],
  },
  { name: 'remove unknown', cmd: { type: 'adminKey.remove', name: 'nobody' }, errors: ['E_NOT_FOUND'] },
]);

test('node.remove after the owner lists were read: the records are replaced, not changed (readers hold them frozen)', () => {
  const h = baseline();
  h.must(addNode(4, 'delta'));
  h.must({ type: 'group.set', name: 'web', settings: { possibleOwners: ['gamma', 'beta'], preferredOwners: ['gamma'] } });
  h.must({ type: 'resource.set', name: 'app', settings: { possibleOwners: ['gamma', 'alpha'] } });
  const groupBefore = h.db.getGroup('web');
  const resourceBefore = h.db.getResource('app');
  assert.ok(Object.isFrozen(groupBefore) && Object.isFrozen(resourceBefore));
  // Before the fix, apply assigned to these frozen records and threw on every node.
  h.must({ type: 'node.remove', node: 'gamma' });
  assert.deepEqual([h.db.getGroup('web')?.possibleOwners, h.db.getGroup('web')?.preferredOwners, h.db.getResource('app')?.possibleOwners], [['n2'], [], ['n1']]);
  // What a reader held is what it read.
  assert.deepEqual([groupBefore?.possibleOwners, resourceBefore?.possibleOwners], [['n3', 'n2'], ['n3', 'n1']]);
});
