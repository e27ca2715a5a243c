// The controllers together, with the real lease holder and granter,
// placement planner and cluster database: a resource fails, is reported,
// restarted as its policy allows, fails again and its group fails over to
// the other node once the first has confirmed it stopped (rule 4 (a)).
// Messages arrive at once and every command commits at once; the guard
// acknowledges at once; the monitor answers when the test says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerView, MonitorOp, NodeActions } from '../../src/agent/core/controller-io.js';
import { LeaderController, grantablePlacements } from '../../src/agent/core/controller-leader.js';
import { NodeController } from '../../src/agent/core/controller-node.js';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import { LeaseHolder } from '../../src/agent/core/lease-holder.js';
import type { CommittedState } from '../../src/agent/core/placement-decisions.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';

const G = 11000 / 9 + 50;
const NODES = ['n1', 'n2'];

class Cluster {
  readonly db = new ClusterDatabase();
  readonly leader = new LeaderController({ timing: defaultLeaseTiming, now: 0 });
  readonly holders = new Map(NODES.map((id) => [id, new LeaseHolder(id, `${id}-s`, defaultLeaseTiming)]));
  readonly ctls = new Map(NODES.map((id) => [id, new NodeController({ node: id, timing: defaultLeaseTiming })]));
  /** node → resource → its pending monitor operation. */
  readonly ops = new Map(NODES.map((id) => [id, new Map<string, MonitorOp>()]));
  private index = 0;

  commit(cmds: readonly ClusterCommand[], actor: string, now: number): void {
    for (const cmd of cmds) this.db.apply(++this.index, 1, encodeCommand({ cmd, actor, at: Math.round(now * 1000) + this.index }));
    for (const id of NODES) this.handle(id, this.ctl(id).onCommitted(this.view(), now), now);
  }

  leaderTick(now: number): void {
    const a = this.leader.tick({ now, wallHour: 0, committed: this.view(), appliedIndex: this.index, liveness: NODES.map((node) => ({ node, state: 'Up' as const })) });
    this.commit(a.propose, 'n1', now);
    for (const { node, order } of a.orders) this.handle(node, this.ctl(node).onOrder(order, now), now);
  }

  renew(id: string, now: number): void {
    const holder = this.holders.get(id) as LeaseHolder;
    const d = this.leader.onRequest(holder.requestRenewal(now), grantablePlacements(this.db.listPlacements()), Infinity, now);
    assert.ok(d.ok);
    const change = holder.onGrant(d.grant, now);
    this.handle(id, this.ctl(id).onLease(change, { until: holder.allowed(now).until, guardDeadline: holder.guardDeadline() }, now), now);
  }

  /** The monitor finishes `resource`'s pending operation on `id`. */
  done(id: string, resource: string, outcome: 'ok' | 'failed', now: number): string {
    const op = this.ops.get(id)?.get(resource);
    assert.ok(op !== undefined, `no operation pending on ${resource} at ${id}`);
    this.ops.get(id)?.delete(resource);
    this.handle(id, this.ctl(id).onMonitor({ kind: 'done', id: op.id, outcome }, now), now);
    return op.kind;
  }

  health(id: string, resource: string, now: number): void {
    this.handle(id, this.ctl(id).onMonitor({ kind: 'failed', group: 'G', resource, reason: 'not running' }, now), now);
  }

  pending(id: string): string[] {
    return [...(this.ops.get(id)?.values() ?? [])].map((op) => `${op.kind}:${op.resource}`);
  }

  state(resource: string): string {
    const s = this.db.getResourceState(resource);
    const p = this.db.getPlacement('G');
    return `${p?.node ?? '-'}@${p?.epoch ?? 0} ${s?.state ?? 'Offline'}@${s?.epoch ?? 0}`;
  }

  private handle(id: string, a: NodeActions, now: number): void {
    for (const op of a.monitor) this.ops.get(id)?.set(op.resource, op);
    for (const pair of a.stopped) this.holders.get(id)?.onStopped(pair);
    if (a.reports.length > 0) this.commit(a.reports, id, now);
    if (a.guard !== null) this.handle(id, this.ctl(id).onGuard({ kind: 'acked', seq: a.guard.seq }, now), now);
  }

  private ctl(id: string): NodeController {
    return this.ctls.get(id) as NodeController;
  }

  private view(): CommittedState & ControllerView {
    const db = this.db;
    return {
      nodes: db.listNodes(), groups: db.listGroups(), resources: db.listResources(), placements: db.listPlacements(),
      resourceStates: db.listResourceStates(), resourceRequests: db.listResourceRequests(),
    };
  }
}

test('failure → report → restart per policy → failure → failover once the old owner confirmed the stop', () => {
  const c = new Cluster();
  c.commit([
    ...NODES.map((id, i): ClusterCommand => ({
      type: 'node.add', id, name: id, address: `10.0.0.${i + 1}:2222`, hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${id}xxxxxxxxxxxxxx`, incarnation: `${id}-1`,
    })),
    { type: 'group.create', name: 'G', settings: { restart: { maxRestarts: 1, delay: 0 } } },
    { type: 'resource.create', name: 'a', group: 'G', resourceType: 'process', parameters: { command: '/bin/true' } },
  ], 'admin', 0);
  c.leader.intend({ kind: 'online', group: 'G' });

  c.leaderTick(100);
  assert.equal(c.state('a'), '-@0 Offline@0', 'settling: not placed yet');
  c.leaderTick(G + 1);
  assert.equal(c.state('a'), 'n1@1 Offline@0');
  c.renew('n1', G + 10);
  assert.deepEqual(c.pending('n1'), ['online:a']);
  c.done('n1', 'a', 'ok', G + 20);
  assert.equal(c.state('a'), 'n1@1 Online@1');

  // First failure: reported, cleaned up, restarted on the leader's order.
  c.health('n1', 'a', G + 100);
  assert.equal(c.state('a'), 'n1@1 Failed@1');
  assert.equal(c.done('n1', 'a', 'ok', G + 110), 'offline');
  assert.deepEqual(c.pending('n1'), []);
  c.leaderTick(G + 200);
  assert.deepEqual(c.pending('n1'), ['online:a']);
  c.done('n1', 'a', 'ok', G + 210);
  assert.equal(c.state('a'), 'n1@1 Online@1');

  // Second failure: out of restarts, the group fails over.
  c.health('n1', 'a', G + 300);
  c.done('n1', 'a', 'ok', G + 310);
  c.leaderTick(G + 400);
  assert.equal(c.state('a'), '-@2 Failed@1', 'first step: placed nowhere');
  c.leaderTick(G + 410);
  assert.equal(c.state('a'), '-@2 Failed@1', 'n1 may still run it: not placed elsewhere yet');
  c.renew('n1', G + 420); // the grant leaves G out; nothing of it runs: the stop is confirmed
  c.renew('n1', G + 430); // ... and reported
  c.leaderTick(G + 440);
  assert.equal(c.state('a'), 'n2@3 Failed@1');
  c.renew('n2', G + 450);
  assert.deepEqual(c.pending('n2'), ['online:a']);
  c.done('n2', 'a', 'ok', G + 460);
  assert.equal(c.state('a'), 'n2@3 Online@3');
});
