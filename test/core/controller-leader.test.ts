import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderController, grantablePlacements } from '../../src/agent/core/controller-leader.js';
import type { LeaseBugs } from '../../src/agent/core/controller-leader.js';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import type { LeaseRequest } from '../../src/agent/core/lease-messages.js';
import type { CommittedState } from '../../src/agent/core/placement-decisions.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';

// Default timing: L = 1000 ms, ρ = 0.1, ε = 50 ms: G = 1000 * 1.1 / 0.9 + 50 = 1272.2 ms.
const G = 11000 / 9 + 50;

/** A database with nodes n1, n2 and group G of resource a, after `more`. */
function database(more: ClusterCommand[] = []): ClusterDatabase {
  const db = new ClusterDatabase();
  const cmds: ClusterCommand[] = [
    ...['n1', 'n2'].map((id, i): ClusterCommand => ({
      type: 'node.add', id, name: id, address: `10.0.0.${i + 1}:2222`, hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${id}xxxxxxxxxxxxxx`, incarnation: `${id}-1`,
    })),
    { type: 'group.create', name: 'G', settings: { restart: { maxRestarts: 3, delay: 100 } } },
    { type: 'resource.create', name: 'a', group: 'G', resourceType: 'process', parameters: { command: '/bin/true' } },
    ...more,
  ];
  cmds.forEach((cmd, i) => {
    const r = db.apply(i + 1, 1, encodeCommand({ cmd, actor: 'test', at: 1000 + i }));
    assert.equal(r.result, 'applied', `${cmd.type}: ${JSON.stringify(r.reports)}`);
  });
  return db;
}

function committed(db: ClusterDatabase): CommittedState {
  return { nodes: db.listNodes(), groups: db.listGroups(), resources: db.listResources(), placements: db.listPlacements(), resourceStates: db.listResourceStates() };
}

const up = [{ node: 'n1', state: 'Up' as const }, { node: 'n2', state: 'Up' as const }];
const req = (from: string, seq: number, held: LeaseRequest['held'] = []): LeaseRequest => ({ from, session: `${from}-s`, seq, appliedSeq: seq - 1, held, stopped: [] });

test('grants follow the settling period; the planted bugs shorten or skip it', () => {
  const db = database([{ type: 'placement.set', group: 'G', node: 'n1', expectedEpoch: 0 }]);
  const placements = grantablePlacements(db.listPlacements());
  assert.deepEqual([...placements], [['G', { node: 'n1', epoch: 1 }]]);
  // [bugs, now, held by n1, granted]
  const cases: [LeaseBugs, number, boolean, boolean][] = [
    [{}, 100, false, false],
    [{}, 100, true, true], // rule 4: a pair the holder reports is renewed while settling
    [{}, G - 1, false, false],
    [{}, G + 1, false, true],
    [{ noSettlingAfterElection: true }, 100, false, true],
    [{ settleWithoutRho: true }, 1049, false, false],
    [{ settleWithoutRho: true }, 1051, false, true], // G = L + ε
  ];
  for (const [bugs, now, held, want] of cases) {
    const ctl = new LeaderController({ timing: defaultLeaseTiming, now: 0, bugs });
    const d = ctl.onRequest(req('n1', 1, held ? [{ group: 'G', epoch: 1 }] : []), placements, Infinity, now);
    assert.ok(d.ok);
    assert.equal(d.grant.groups.length > 0, want, `${JSON.stringify(bugs)} at ${now}, held ${held}`);
  }
  const ctl = new LeaderController({ timing: defaultLeaseTiming, now: 0 });
  assert.deepEqual(ctl.onRequest(req('n1', 1), placements, 50, 100), { ok: false, code: 'E_NO_LEADER_LEASE' });
});

test('tick proposes a placement once the granter allows it; a repeat waits for the first to be applied or refused', () => {
  const db = database();
  const ctl = new LeaderController({ timing: defaultLeaseTiming, now: 0 });
  const tick = (now: number, appliedIndex = 10): string[] =>
    ctl.tick({ now, wallHour: 0, committed: committed(db), appliedIndex, liveness: up }).propose.map((c) => JSON.stringify(c));
  ctl.intend({ kind: 'online', group: 'G' });
  assert.deepEqual(tick(100), [], 'settling: nothing placed yet');
  assert.equal(ctl.tick({ now: 200, wallHour: 0, committed: committed(db), appliedIndex: 10, liveness: up }).wakeAt, G, 'wake when settled');
  const first = tick(G + 1);
  assert.equal(first.length, 1);
  const cmd = JSON.parse(first[0] as string) as ClusterCommand;
  assert.equal(cmd.type, 'placement.set');
  assert.deepEqual(tick(G + 100), [], 'not repeated within E_min');
  assert.deepEqual(tick(G + 302), first, 'the first was never said to be in the log: repeated');
  ctl.proposed(cmd, 20);
  assert.deepEqual(tick(G + 900, 19), [], 'in the log, not applied yet: not repeated, however long');
  assert.deepEqual(tick(G + 910, 20), first, 'applied and still wanted (refused): repeated');
  ctl.proposed(cmd, null);
  assert.deepEqual(tick(G + 1000), [], 'refused by the core: not repeated within E_min');
  db.apply(100, 2, encodeCommand({ cmd, actor: 'n1', at: 5000 }));
  assert.deepEqual(tick(G + 1300, 100), [], 'committed: no longer wanted');
});

test('a Failed resource is answered with a restart order to its owner, once per failure and retryMs', () => {
  const db = database([
    { type: 'placement.set', group: 'G', node: 'n1', expectedEpoch: 0 },
    { type: 'resourceState.set', resource: 'a', state: 'OnlinePending', node: 'n1', epoch: 1 },
    { type: 'resourceState.set', resource: 'a', state: 'Online', node: 'n1', epoch: 1 },
    { type: 'resourceState.set', resource: 'a', state: 'Failed', node: 'n1', epoch: 1 },
  ]);
  const since = db.getResourceState('a')?.since;
  const ctl = new LeaderController({ timing: defaultLeaseTiming, now: 0 });
  const orders = (now: number): unknown[] => ctl.tick({ now, wallHour: 0, committed: committed(db), appliedIndex: 10, liveness: up }).orders;
  // The restart policy's delay (100 ms) runs from the leader's first sight of the failure.
  assert.deepEqual(orders(2000), []);
  assert.equal(ctl.tick({ now: 2050, wallHour: 0, committed: committed(db), appliedIndex: 10, liveness: up }).wakeAt, 2100);
  const want = [{ node: 'n1', order: { kind: 'restart', group: 'G', resource: 'a', epoch: 1, failedSince: since } }];
  assert.deepEqual(orders(2100), want);
  assert.deepEqual(orders(2200), []);
  assert.deepEqual(orders(2401), want);
});
