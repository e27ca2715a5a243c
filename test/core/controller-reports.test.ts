import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transitionPath } from '../../src/agent/core/controller-reports.js';
import type { ResourceState } from '../../src/agent/db/schema.js';

test('transitionPath: the shortest sequence of reports the database accepts', () => {
  const cases: [ResourceState, ResourceState, ResourceState[]][] = [
    ['Online', 'Online', []],
    ['Offline', 'OnlinePending', ['OnlinePending']],
    ['Offline', 'Online', ['OnlinePending', 'Online']],
    ['Online', 'Offline', ['Offline']],
    ['Failed', 'Online', ['OnlinePending', 'Online']],
    ['OfflinePending', 'Online', ['Offline', 'OnlinePending', 'Online']],
    ['Offline', 'OfflinePending', ['OnlinePending', 'OfflinePending']],
    ['Online', 'Failed', ['Failed']],
  ];
  for (const [from, to, want] of cases) assert.deepEqual(transitionPath(from, to), want, `${from} -> ${to}`);
});
