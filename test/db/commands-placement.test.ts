// Table-driven cases for placement and resource state transitions.
import assert from 'node:assert/strict';
import { addNode, runCases } from './fixture.js';

runCases('placement.set', [
  {
    name: 'place, by node name; the epoch comes from the cluster-wide counter',
    setup: [{ type: 'placement.set', group: 'db', node: 'n2' }],
    cmd: { type: 'placement.set', group: 'web', node: 'alpha' }, errors: [],
    then: (h) => {
      assert.deepEqual(h.db.getPlacement('web'), { group: 'web', node: 'n1', epoch: 2, at: h.at });
      assert.equal(h.db.placementEpoch, 2);
    },
  },
  {
    name: 'unplace',
    setup: [{ type: 'placement.set', group: 'web', node: 'n1' }],
    cmd: { type: 'placement.set', group: 'web', node: null, expectedEpoch: 1 }, errors: [],
    then: (h) => assert.deepEqual(h.db.getPlacement('web'), { group: 'web', node: null, epoch: 2, at: h.at }),
  },
  {
    name: 'a re-created group never reuses an epoch',
    setup: [
      { type: 'group.create', name: 'g' },
      { type: 'placement.set', group: 'g', node: 'n1' },
      { type: 'group.delete', name: 'g' },
      { type: 'group.create', name: 'g' },
    ],
    cmd: { type: 'placement.set', group: 'g', node: 'n1' }, errors: [],
    then: (h) => assert.equal(h.db.getPlacement('g')?.epoch, 2),
  },
  { name: 'expected epoch moved on', setup: [{ type: 'placement.set', group: 'web', node: 'n1' }], cmd: { type: 'placement.set', group: 'web', node: 'n2', expectedEpoch: 0 }, errors: ['E_CONFLICT'] },
  { name: 'unknown group and node', cmd: { type: 'placement.set', group: 'nope', node: 'zeta' }, errors: ['E_NOT_FOUND', 'E_NOT_FOUND'] },
  { name: 'node required (null to unplace)', cmd: { type: 'placement.set', group: 'web' }, errors: ['E_REQUIRED'] },
  { name: 'witness agent', setup: [addNode(4, 'wit', { kind: 'witness-agent' })], cmd: { type: 'placement.set', group: 'web', node: 'wit' }, errors: ['E_INVALID_VALUE'] },
  { name: 'paused node', setup: [{ type: 'node.set', node: 'beta', paused: true }], cmd: { type: 'placement.set', group: 'web', node: 'beta' }, errors: ['E_NODE_PAUSED'] },
  { name: 'paused node, forced', setup: [{ type: 'node.set', node: 'beta', paused: true }], cmd: { type: 'placement.set', group: 'web', node: 'beta' }, force: true, errors: [], warnings: ['E_NODE_PAUSED'] },
  {
    name: 'not a possible owner of the group nor of a resource',
    setup: [
      { type: 'group.set', name: 'web', settings: { possibleOwners: ['alpha', 'beta'] } },
      { type: 'resource.set', name: 'app', settings: { possibleOwners: ['alpha'] } },
    ],
    cmd: { type: 'placement.set', group: 'web', node: 'gamma' }, errors: ['E_NOT_POSSIBLE_OWNER', 'E_NOT_POSSIBLE_OWNER'],
  },
  {
    name: 'anti-affinity is a warning',
    setup: [
      { type: 'group.set', name: 'web', settings: { antiAffinityClasses: ['front'] } },
      { type: 'group.set', name: 'db', settings: { antiAffinityClasses: ['front', 'x'] } },
      { type: 'placement.set', group: 'db', node: 'n1' },
    ],
    cmd: { type: 'placement.set', group: 'web', node: 'n1' }, errors: [], warnings: ['E_ANTI_AFFINITY'],
  },
]);

const PLACED = [{ type: 'placement.set', group: 'web', node: 'n1' } as const];

runCases('resourceState.set', [
  {
    name: 'Offline → OnlinePending on the owner in the current epoch',
    setup: [...PLACED],
    cmd: { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'alpha', epoch: 1 }, errors: [],
    then: (h) => {
      assert.deepEqual(h.db.getResourceState('ip1'), { resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1, since: h.at, reason: null });
      assert.equal(h.db.groupState('web'), 'Pending');
    },
  },
  {
    name: 'Online, then the group is Online when all are',
    setup: [
      ...PLACED,
      { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1 },
      { type: 'resourceState.set', resource: 'ip1', state: 'Online', node: 'n1', epoch: 1 },
      { type: 'resourceState.set', resource: 'app', state: 'OnlinePending', node: 'n1', epoch: 1 },
    ],
    cmd: { type: 'resourceState.set', resource: 'app', state: 'Online', node: 'n1', epoch: 1 }, errors: [],
    then: (h) => assert.equal(h.db.groupState('web'), 'Online'),
  },
  {
    name: 'Failed, with a reason',
    setup: [...PLACED, { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1 }],
    cmd: { type: 'resourceState.set', resource: 'ip1', state: 'Failed', node: 'n1', epoch: 1, reason: 'start timed out' }, errors: [],
    then: (h) => {
      assert.equal(h.db.getResourceState('ip1')?.reason, 'start timed out');
      assert.equal(h.db.groupState('web'), 'Failed');
    },
  },
  { name: 'Offline → Online skips OnlinePending', setup: [...PLACED], cmd: { type: 'resourceState.set', resource: 'ip1', state: 'Online', node: 'n1', epoch: 1 }, errors: ['E_INVALID_TRANSITION'] },
  { name: 'Offline → Offline', cmd: { type: 'resourceState.set', resource: 'ip1', state: 'Offline' }, errors: ['E_INVALID_TRANSITION'] },
  { name: 'a stale epoch', setup: [...PLACED, ...PLACED], cmd: { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1 }, errors: ['E_STALE_EPOCH'] },
  { name: 'not the owner', setup: [...PLACED], cmd: { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n2', epoch: 1 }, errors: ['E_NOT_OWNER'] },
  { name: 'active states need node and epoch', setup: [...PLACED], cmd: { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending' }, errors: ['E_REQUIRED', 'E_REQUIRED'] },
  { name: 'unknown resource and state', cmd: { type: 'resourceState.set', resource: 'ghost', state: 'Running' }, errors: ['E_NOT_FOUND', 'E_INVALID_VALUE'] },
  {
    name: 'a new epoch starts from Offline',
    setup: [
      ...PLACED,
      { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n1', epoch: 1 },
      { type: 'resourceState.set', resource: 'ip1', state: 'Online', node: 'n1', epoch: 1 },
      { type: 'placement.set', group: 'web', node: 'n2' },
    ],
    cmd: { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'beta', epoch: 2 }, errors: [],
    then: (h) => assert.equal(h.db.groupState('web'), 'Pending'),
  },
]);
