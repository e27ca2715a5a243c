// The leader's handling of nodes' resource state reports (group-leader.ts):
// a resource's reports are proposed one after another, and a report that
// repeats the one queued last for the resource is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ResourceReport } from '../../src/agent/core/controller-io.js';
import type { LeaderController } from '../../src/agent/core/controller-leader.js';
import type { LivenessView } from '../../src/agent/core/membership.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { GroupLeader } from '../../src/agent/node/group-leader.js';
import { Logger } from '../../src/agent/node/logger.js';

const report = (resource: string, state: ResourceReport['state'], epoch = 3): ResourceReport =>
  ({ type: 'resourceState.set', resource, state, node: 'n1', epoch });

/** A leader whose proposals commit only when the test says so. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function leaderWithHeldProposals(): { leader: GroupLeader; proposed: ClusterCommand[]; commitNext: () => Promise<void> } {
  const proposed: ClusterCommand[] = [];
  const waiting: (() => void)[] = [];
  const leader = new GroupLeader({
    nodeId: 'n1',
    log: new Logger({ format: 'json', stream: new PassThrough() }),
    // Leading, with no database yet: tick() takes the term and plans nothing.
    leader: () => ({}) as LeaderController,
    db: () => null,
    liveness: () => ({}) as LivenessView,
    propose: (cmd) => {
      proposed.push(cmd);
      return new Promise((resolve) => waiting.push(() => resolve(undefined)));
    },
    sendOrder: () => {},
  });
  leader.tick();
  return {
    leader,
    proposed,
    commitNext: async () => {
      await settle();
      waiting.shift()?.();
      await settle();
    },
  };
}

test('a resource\'s reports are proposed in order, one at a time; a repeat of the last one queued is dropped', async () => {
  const { leader, proposed, commitNext } = leaderWithHeldProposals();
  leader.onReport(report('a', 'OnlinePending'), 'n1');
  leader.onReport(report('a', 'Online'), 'n1');
  // Resent by the node while the database did not show them yet.
  leader.onReport(report('a', 'Online'), 'n1');
  leader.onReport(report('a', 'Online'), 'n1');
  leader.onReport(report('b', 'OnlinePending'), 'n1');
  // Another node may not report for n1.
  leader.onReport(report('c', 'Online'), 'n2');
  await settle();
  const shown = () => proposed.map((c) => c.type === 'resourceState.set' && `${c.resource} ${c.state} ${c.epoch}`);
  assert.deepEqual(shown(), ['a OnlinePending 3', 'b OnlinePending 3']);
  await commitNext(); // a OnlinePending
  assert.deepEqual(shown(), ['a OnlinePending 3', 'b OnlinePending 3', 'a Online 3']);
  await commitNext(); // b OnlinePending
  await commitNext(); // a Online: the two repeats were dropped
  assert.deepEqual(shown(), ['a OnlinePending 3', 'b OnlinePending 3', 'a Online 3']);

  // Not a repeat of the last one queued: Online again after a failure, and a new epoch.
  leader.onReport(report('a', 'Failed'), 'n1');
  leader.onReport(report('a', 'Online'), 'n1');
  leader.onReport(report('a', 'Online', 4), 'n1');
  for (let i = 0; i < 2; i++) await commitNext();
  assert.deepEqual(shown().slice(3), ['a Failed 3', 'a Online 3', 'a Online 4']);
  // Once the last one is committed, the same report is proposed again (the node resends what the database does not show).
  await commitNext();
  leader.onReport(report('a', 'Online', 4), 'n1');
  await commitNext();
  assert.equal(proposed.length, 7);
  leader.close();
});
