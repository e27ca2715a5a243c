import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlacementPlanner } from '../../src/agent/core/placement-planner.js';
import type { AdminIntent, Decision, PlaceAnswer, PlanInput } from '../../src/agent/core/placement-decisions.js';
import type { NodeState } from '../../src/agent/core/membership.js';
import type { ClusterCommand, GroupSettingsInput } from '../../src/agent/db/commands.js';
import type { ResourceState } from '../../src/agent/db/schema.js';
import { LeaseGranter } from '../../src/agent/core/lease-granter.js';
import { defaultLeaseTiming, settlePeriodMs } from '../../src/agent/core/lease-config.js';
import { Harness, addNode } from '../db/fixture.js';

const ALL_PLACEABLE = (): PlaceAnswer => ({ ok: true, blockers: [] });

/**
 * A leader's view of a cluster: the real cluster database, into which the
 * planner's proposals are applied as the leader would (a stale one is
 * rejected by its expectedEpoch), a liveness view in which nodes are Up
 * unless set otherwise (Paused follows the database flag, as in
 * LivenessView), and the lease granter's answers as a function.
 */
class World {
  readonly h = new Harness();
  /** Replaced by `newLeader()`. */
  planner: PlacementPlanner;
  now = 0;
  wallHour = 12;
  readonly liveness = new Map<string, NodeState>();
  placeable: (group: string, node: string) => PlaceAnswer = ALL_PLACEABLE;
  /** Reorders each input's records before planning (determinism tests). */
  shuffle: (<T>(items: T[]) => T[]) | null = null;

  constructor(nodes: number) {
    for (let n = 1; n <= nodes; n++) this.h.must(addNode(n, `node${n}`));
    this.planner = new PlacementPlanner();
  }

  /** A new leader: a planner that remembers nothing but what the database says. */
  newLeader(): void {
    this.planner = new PlacementPlanner();
  }

  must(...cmds: ClusterCommand[]): void {
    for (const cmd of cmds) this.h.must(cmd);
  }

  group(name: string, settings: GroupSettingsInput = {}, resources: string[] = []): void {
    this.must({ type: 'group.create', name, settings });
    for (const r of resources) this.must({ type: 'resource.create', name: r, group: name, resourceType: 'process', parameters: { command: '/bin/true' } });
  }

  input(intents: AdminIntent[]): PlanInput {
    const db = this.h.db;
    const order = <T>(items: T[]): T[] => (this.shuffle ? this.shuffle(items) : items);
    const nodes = db.listNodes();
    return {
      now: this.now,
      wallHour: this.wallHour,
      committed: {
        nodes: order(nodes), groups: order(db.listGroups()), resources: order(db.listResources()),
        placements: order(db.listPlacements()), resourceStates: order(db.listResourceStates()),
      },
      liveness: order(nodes.map((n) => ({ node: n.id, state: this.liveness.get(n.id) ?? (n.paused ? 'Paused' : 'Up') }))),
      placeable: this.placeable,
      intents,
    };
  }

  plan(...intents: AdminIntent[]): Decision[] {
    return this.planner.plan(this.input(intents));
  }

  /** Plans and applies every proposal, in order. */
  step(...intents: AdminIntent[]): string[] {
    const decisions = this.plan(...intents);
    for (const d of decisions) {
      if (d.kind === 'propose') {
        this.h.at += 1000;
        this.h.applyData(JSON.stringify({ cmd: d.command, actor: 'n1', at: this.h.at }));
      }
    }
    return decisions.map(show);
  }

  /** Steps until a plan proposes nothing; the steps' decisions, joined. */
  settle(...intents: AdminIntent[]): string[] {
    const all: string[] = [];
    for (let i = 0; i < 10; i++) {
      const step = this.step(...(i === 0 ? intents : []));
      all.push(...step);
      if (!step.some((s) => s.startsWith('place') || s.startsWith('stop '))) return all;
    }
    assert.fail(`no steady state: ${all.join('; ')}`);
  }

  owner(group: string): string | null {
    return this.h.db.getPlacement(group)?.node ?? null;
  }

  /** The resource reports these states in its group's current placement. */
  report(resource: string, ...states: ResourceState[]): void {
    const group = this.h.db.getResource(resource)?.group ?? '';
    const p = this.h.db.getPlacement(group);
    for (const state of states) this.must({ type: 'resourceState.set', resource, state, node: p?.node ?? null, epoch: p?.epoch ?? 0 });
  }
}

/** One decision as a short line. */
function show(d: Decision): string {
  switch (d.kind) {
    case 'propose':
      return d.command.node === null ? `stop ${d.command.group} (${d.why})` : `place ${d.command.group} ${d.command.node} (${d.why})`;
    case 'restart':
      return `restart ${d.resource}@${d.node} at ${d.at}`;
    case 'stop-resource':
      return `stop-resource ${d.resource}@${d.node}`;
    case 'refused':
      return `refused ${d.intent.kind}: ${d.problems.map((p) => p.code).join(',')}`;
    case 'wait': {
      const w = d.why;
      if (w.reason === 'lease') return `wait ${d.group} lease ${w.node} until ${w.until}`;
      if (w.reason === 'failover-threshold') return `wait ${d.group} held until ${w.retryAt}`;
      if (w.reason === 'resource-failed') return `wait ${d.group} ${w.resource} failed`;
      if (w.reason === 'failback-window') return `wait ${d.group} failback ${w.node} at ${w.startHour}`;
      return `wait ${d.group} ${w.reason}`;
    }
  }
}

test('starts: highest priority first, spread by load; priority 0 only when an administrator asks', () => {
  const w = new World(3);
  w.group('g1', { priority: 1000 });
  w.group('g2', { priority: 3000 });
  w.group('g3', { priority: 2000 });
  w.group('g4', { priority: 2000 });
  w.group('p0', { priority: 0 });
  w.group('idle');
  const intents: AdminIntent[] = ['g1', 'g2', 'g3', 'g4', 'p0'].map((group) => ({ kind: 'online', group }));
  assert.deepEqual(w.step(...intents), [
    'place g2 n1 (online)', 'place g3 n2 (online)', 'place g4 n3 (online)', 'place g1 n1 (online)', 'place p0 n2 (online)',
  ]);
  assert.deepEqual(w.step(), [], 'steady: a group never asked for stays offline');
  assert.equal(w.owner('idle'), null);
});

test('node down: the group goes straight to the next preferred node once the lease rules allow', () => {
  const w = new World(3);
  w.group('web', { preferredOwners: ['n1', 'n2'] });
  w.settle({ kind: 'online', group: 'web' });
  assert.equal(w.owner('web'), 'n1');
  w.liveness.set('n1', 'Down');
  w.placeable = (_group, node) => (node === 'n1' ? ALL_PLACEABLE() : { ok: false, blockers: [{ reason: 'held-elsewhere', node: 'n1', until: 1272 }] });
  assert.deepEqual(w.step(), ['wait web lease n2 until 1272']);
  assert.deepEqual(w.step(), ['wait web lease n2 until 1272'], 'waiting proposes nothing');
  w.placeable = ALL_PLACEABLE;
  assert.deepEqual(w.step(), ['place web n2 (node-down)']);
  w.liveness.delete('n1');
  assert.deepEqual(w.step(), [], 'failback never: it stays');
  assert.equal(w.owner('web'), 'n2');
});

test('node down with no other candidate: wait; priority 0 goes offline instead', () => {
  const w = new World(2);
  w.group('web', { possibleOwners: ['n1'] });
  w.group('batch', { priority: 0 });
  w.settle({ kind: 'online', group: 'web' }, { kind: 'online', group: 'batch', node: 'n1' });
  w.liveness.set('n1', 'Down');
  assert.deepEqual(w.settle(), ['stop batch (node-down)', 'wait web no-candidate', 'wait web no-candidate']);
  w.liveness.delete('n1');
  assert.deepEqual(w.settle(), []);
  assert.deepEqual([w.owner('web'), w.owner('batch')], ['n1', null]);
});

test('drain: groups leave lowest priority first and start elsewhere highest first; priority 0 stays offline', () => {
  const w = new World(3);
  for (const [name, priority] of [['a', 1000], ['b', 3000], ['c', 2000], ['z', 0]] as const) w.group(name, { priority });
  w.settle(...['a', 'b', 'c', 'z'].map((group): AdminIntent => ({ kind: 'online', group, node: 'n1' })));
  w.must({ type: 'node.set', node: 'n1', paused: true });
  assert.deepEqual(w.step(), [], 'paused without drain: its groups stay');
  w.must({ type: 'node.set', node: 'n1', paused: true, drain: true });
  assert.deepEqual(w.step(), ['stop z (drain)', 'stop a (drain)', 'stop c (drain)', 'stop b (drain)']);
  assert.deepEqual(w.step(), ['place b n2 (drain)', 'place c n3 (drain)', 'place a n2 (drain)']);
  assert.deepEqual(w.settle(), []);
  assert.deepEqual(['a', 'b', 'c', 'z'].map((g) => w.owner(g)), ['n2', 'n2', 'n3', null]);
});

test('resource failure: restart after the delay, once per failure; out of restarts, fail over off that node', () => {
  const w = new World(3);
  w.group('web', { preferredOwners: ['n1', 'n2', 'n3'], restart: { maxRestarts: 1, period: '10m', delay: '500ms' } }, ['app']);
  w.settle({ kind: 'online', group: 'web' });
  w.report('app', 'OnlinePending', 'Online', 'Failed');
  w.now = 1000;
  assert.deepEqual(w.step(), ['restart app@n1 at 1500']);
  w.now = 1200;
  assert.deepEqual(w.step(), ['restart app@n1 at 1500'], 'the same failure is answered the same');
  w.report('app', 'OnlinePending', 'Online', 'Failed');
  w.now = 2000;
  assert.deepEqual(w.settle(), ['stop web (failover)', 'place web n2 (failover)']);
  assert.deepEqual(w.settle(), [], 'no failback: n1 never went away');
});

test('resource failure with one possible owner: the group fails over onto the same node', () => {
  const w = new World(2);
  w.group('web', { possibleOwners: ['n2'], restart: { maxRestarts: 0 } }, ['app']);
  w.settle({ kind: 'online', group: 'web' });
  w.report('app', 'OnlinePending', 'Failed');
  assert.deepEqual(w.settle(), ['stop web (failover)', 'place web n2 (failover)']);
});

test('failover threshold: held Failed with its other resources stopped, until the retry period or cleanup', () => {
  for (const ending of ['retry', 'cleanup'] as const) {
    const w = new World(3);
    w.group('web', { preferredOwners: ['n1', 'n2'], failoverThreshold: 1, failoverPeriod: '1h', failoverRetry: '5s', restart: { maxRestarts: 0 } }, ['app', 'ip']);
    w.settle({ kind: 'online', group: 'web' });
    w.report('ip', 'OnlinePending', 'Online');
    w.report('app', 'OnlinePending', 'Failed');
    w.now = 100;
    assert.deepEqual(w.settle(), ['stop web (failover)', 'place web n2 (failover)'], ending);
    w.report('ip', 'OnlinePending', 'Online');
    w.report('app', 'OnlinePending', 'Failed');
    w.now = 200;
    const held = ['stop-resource ip@n2', 'wait web held until 5200'];
    assert.deepEqual(w.step(), held, ending);
    w.report('ip', 'OfflinePending', 'Offline');
    w.liveness.set('n2', 'Down');
    w.now = 5199;
    assert.deepEqual(w.step(), ['wait web held until 5200'], `${ending}: held even when its node goes down`);
    w.liveness.delete('n2');
    assert.equal(w.h.db.groupState('web'), 'Failed');
    if (ending === 'retry') {
      w.now = 5200;
      assert.deepEqual(w.settle(), ['stop web (retry)', 'place web n1 (retry)']);
    } else {
      assert.deepEqual(w.settle({ kind: 'cleanup', group: 'web' }), ['stop web (cleanup)', 'place web n1 (cleanup)']);
    }
    w.report('app', 'OnlinePending', 'Failed');
    assert.deepEqual(w.settle(), ['stop web (failover)', 'place web n2 (failover)'], `${ending}: a fresh threshold`);
  }
});

test('failback: when a more preferred node comes back Up, as the group policy says', () => {
  const cases: { name: string; settings: GroupSettingsInput; wallHour: number; want: string[] }[] = [
    { name: 'never', settings: { failback: 'never' }, wallHour: 12, want: [] },
    { name: 'immediate', settings: { failback: 'immediate' }, wallHour: 12, want: ['stop web (failback)', 'place web n1 (failback)'] },
    { name: 'window closed', settings: { failback: 'window', failbackWindow: '22-6' }, wallHour: 12, want: ['wait web failback n1 at 22'] },
    { name: 'window open before midnight', settings: { failback: 'window', failbackWindow: '22-6' }, wallHour: 23, want: ['stop web (failback)', 'place web n1 (failback)'] },
    { name: 'window open after midnight', settings: { failback: 'window', failbackWindow: '22-6' }, wallHour: 3, want: ['stop web (failback)', 'place web n1 (failback)'] },
    { name: 'window just closed', settings: { failback: 'window', failbackWindow: '22-6' }, wallHour: 6, want: ['wait web failback n1 at 22'] },
  ];
  for (const c of cases) {
    const w = new World(3);
    w.group('web', { preferredOwners: ['n1', 'n2'], ...c.settings });
    w.settle({ kind: 'online', group: 'web' });
    w.liveness.set('n1', 'Down');
    w.settle();
    w.liveness.set('n1', 'Joining');
    assert.deepEqual(w.settle(), [], `${c.name}: joining is not back`);
    w.liveness.delete('n1');
    w.wallHour = c.wallHour;
    assert.deepEqual(w.settle(), c.want, c.name);
  }
});

test('failback: never for priority 0, which starts only when an administrator asks', () => {
  const w = new World(2);
  w.group('p0', { preferredOwners: ['n1', 'n2'], failback: 'immediate', priority: 0 });
  w.liveness.set('n1', 'Down');
  assert.deepEqual(w.settle({ kind: 'online', group: 'p0' }), ['place p0 n2 (online)']);
  w.liveness.delete('n1');
  assert.deepEqual(w.settle(), []);
});

test('failback window: the group fails back when the window opens', () => {
  const w = new World(2);
  w.group('web', { preferredOwners: ['n1', 'n2'], failback: 'window', failbackWindow: '22-6' });
  w.settle({ kind: 'online', group: 'web' });
  w.liveness.set('n1', 'Down');
  w.settle();
  w.liveness.delete('n1');
  w.wallHour = 21;
  assert.deepEqual(w.settle(), ['wait web failback n1 at 22']);
  w.wallHour = 22;
  assert.deepEqual(w.settle(), ['stop web (failback)', 'place web n1 (failback)']);
});

test('resume --failback now|policy|never after a drain, as the node record says, on any leader', () => {
  const cases: { failback?: 'now' | 'policy' | 'never'; want: [string, string] }[] = [
    { failback: 'now', want: ['n1', 'n1'] },
    { failback: 'policy', want: ['n2', 'n1'] },
    { want: ['n2', 'n1'] },
    { failback: 'never', want: ['n2', 'n2'] },
  ];
  for (const c of cases) {
    for (const how of ['at once', 'the view shows the node Up later', 'a new leader plans'] as const) {
      const name = `${c.failback ?? 'no failback given'}, ${how}`;
      const w = new World(3);
      w.group('keep', { preferredOwners: ['n1', 'n2'], failback: 'never' });
      w.group('back', { preferredOwners: ['n1', 'n2'], failback: 'immediate' });
      w.settle({ kind: 'online', group: 'keep' }, { kind: 'online', group: 'back' });
      w.must({ type: 'node.set', node: 'n1', paused: true, drain: true });
      w.settle();
      assert.deepEqual([w.owner('keep'), w.owner('back')], ['n2', 'n2'], name);
      if (how === 'the view shows the node Up later') w.liveness.set('n1', 'Paused');
      w.must({ type: 'node.set', node: 'n1', paused: false, ...(c.failback === undefined ? {} : { failback: c.failback }) });
      if (how === 'a new leader plans') w.newLeader();
      w.settle();
      w.liveness.delete('n1');
      w.settle();
      assert.deepEqual([w.owner('keep'), w.owner('back')], c.want, name);
    }
  }
});

test('failback after a resume: a later return of the node lets each group\'s policy decide again; a later pause forgets it', () => {
  const w = new World(3);
  w.group('back', { preferredOwners: ['n1', 'n2'], failback: 'immediate' });
  w.settle({ kind: 'online', group: 'back' });
  w.must({ type: 'node.set', node: 'n1', paused: true, drain: true });
  w.settle();
  w.must({ type: 'node.set', node: 'n1', paused: false, failback: 'never' });
  assert.deepEqual(w.settle(), [], 'never: it stays');
  w.liveness.set('n1', 'Down');
  w.settle();
  w.liveness.delete('n1');
  assert.deepEqual(w.settle(), ['stop back (failback)', 'place back n1 (failback)'], 'n1 came back after the resume');
  w.must({ type: 'node.set', node: 'n1', paused: true, drain: true });
  w.settle();
  w.liveness.set('n1', 'Down');
  w.settle();
  w.liveness.delete('n1');
  assert.deepEqual(w.settle(), [], 'returned while paused: not a return');
  w.must({ type: 'node.set', node: 'n1', paused: false, failback: 'never' });
  assert.deepEqual(w.settle(), [], 'the new resume says never');
  assert.equal(w.owner('back'), 'n2');
});

test('a resource that must not move its group: restarted in place, then Failed where it is until cleanup', () => {
  const w = new World(2);
  w.group('web', { preferredOwners: ['n1', 'n2'], restart: { maxRestarts: 1, delay: '0s', failGroupOver: false } }, ['app']);
  w.settle({ kind: 'online', group: 'web' });
  w.report('app', 'OnlinePending', 'Online', 'Failed');
  assert.deepEqual(w.step(), ['restart app@n1 at 0']);
  w.report('app', 'OnlinePending', 'Online', 'Failed');
  assert.deepEqual(w.settle(), ['wait web app failed']);
  assert.deepEqual([w.owner('web'), w.h.db.groupState('web')], ['n1', 'Failed']);
  w.must({ type: 'resource.cleanup', name: 'app' });
  assert.deepEqual(w.settle(), [], 'cleaned up: it starts again where it is');
});

test('failover threshold: a resource cleanup ends the hold, so the group running again stays when the retry time comes', () => {
  const w = new World(3);
  w.group('web', { preferredOwners: ['n1', 'n2'], failoverThreshold: 0, failoverRetry: 5000, restart: { maxRestarts: 0 } }, ['app']);
  w.settle({ kind: 'online', group: 'web' });
  w.report('app', 'OnlinePending', 'Failed');
  w.now = 100;
  assert.deepEqual(w.step(), ['wait web held until 5100']);
  w.must({ type: 'resource.cleanup', name: 'app' });
  assert.deepEqual(w.step(), [], 'no failure is left to hold it for');
  w.report('app', 'OnlinePending', 'Online');
  w.now = 5100;
  assert.deepEqual(w.settle(), [], 'no retry move');
  assert.equal(w.owner('web'), 'n1');
});

test('failover threshold: each held group comes back by itself after its own failoverRetry; a changed one applies to the hold', () => {
  const w = new World(3);
  const settings: GroupSettingsInput = { failoverThreshold: 0, restart: { maxRestarts: 0 } };
  w.group('fast', { ...settings, preferredOwners: ['n1'], failoverRetry: '3s' }, ['fast-app']);
  w.group('slow', { ...settings, preferredOwners: ['n2'] }, ['slow-app']);
  w.group('later', { ...settings, preferredOwners: ['n3'] }, ['later-app']);
  w.settle({ kind: 'online', group: 'fast' }, { kind: 'online', group: 'slow' }, { kind: 'online', group: 'later' });
  for (const r of ['fast-app', 'slow-app', 'later-app']) w.report(r, 'OnlinePending', 'Failed');
  w.now = 1000;
  assert.deepEqual(w.step(), ['wait fast held until 4000', 'wait later held until 3601000', 'wait slow held until 3601000'], 'slow and later: 1h, the default');
  w.now = 3999;
  assert.deepEqual(w.step(), ['wait fast held until 4000', 'wait later held until 3601000', 'wait slow held until 3601000']);
  w.must({ type: 'group.set', name: 'later', settings: { failoverRetry: '10s' } });
  assert.deepEqual(w.step(), ['wait fast held until 4000', 'wait later held until 11000', 'wait slow held until 3601000'], 'counted from the hold');
  const moves = (): string[] => w.settle().filter((d) => !d.startsWith('wait'));
  w.now = 4000;
  assert.deepEqual(moves(), ['stop fast (retry)', 'place fast n2 (retry)'], 'only fast is tried again, elsewhere, without cleanup');
  w.report('fast-app', 'OnlinePending', 'Online');
  assert.equal(w.h.db.groupState('fast'), 'Online');
  w.must({ type: 'group.set', name: 'slow', settings: { failoverRetry: '2s' } });
  assert.deepEqual(moves(), ['stop slow (retry)', 'place slow n1 (retry)'], 'set shorter than the time held: tried at once');
  assert.deepEqual(w.step(), ['wait later held until 11000']);
  assert.deepEqual([w.owner('fast'), w.owner('slow'), w.owner('later')], ['n2', 'n1', 'n3']);
});

test('a group leaves a node that is no longer a possible owner', () => {
  const w = new World(2);
  w.group('web', {}, ['app']);
  w.settle({ kind: 'online', group: 'web', node: 'n1' });
  w.must({ type: 'resource.set', name: 'app', settings: { possibleOwners: ['n2'] } });
  assert.deepEqual(w.settle(), ['stop web (not-possible-owner)', 'place web n2 (not-possible-owner)']);
});

test('admin intents: move, offline, online; every problem that refuses one', () => {
  const w = new World(3);
  w.must(addNode(4, 'wit', { kind: 'witness-agent' }));
  w.group('web', { preferredOwners: ['n1'] });
  w.group('solo', { possibleOwners: ['n1'] });
  w.group('p0', { priority: 0 });
  assert.deepEqual(w.settle({ kind: 'online', group: 'web' }, { kind: 'online', group: 'solo' }), ['place solo n1 (online)', 'place web n1 (online)']);
  assert.deepEqual(w.settle({ kind: 'move', group: 'web', node: 'node3' }), ['stop web (move)', 'place web n3 (move)']);
  assert.deepEqual(w.settle({ kind: 'move', group: 'web' }), ['stop web (move)', 'place web n1 (move)']);
  assert.deepEqual(w.settle({ kind: 'move', group: 'web', node: 'n1' }), [], 'already there');
  assert.deepEqual(w.settle({ kind: 'online', group: 'web' }), [], 'already online');
  assert.deepEqual(w.settle({ kind: 'offline', group: 'web' }), ['stop web (offline)']);
  assert.deepEqual(w.settle(), [], 'offline stays offline');
  assert.deepEqual(w.settle({ kind: 'move', group: 'p0', node: 'n2' }), ['place p0 n2 (move)'], 'an administrator starts priority 0');
  w.liveness.set('n2', 'Down');
  assert.deepEqual(w.step(
    { kind: 'move', group: 'nope', node: 'zeta' },
    { kind: 'move', group: 'web', node: 'wit' },
    { kind: 'online', group: 'web', node: 'n2' },
    { kind: 'move', group: 'solo' },
  ), [
    'refused move: E_NOT_FOUND,E_NOT_FOUND', 'refused move: E_NOT_CANDIDATE', 'refused online: E_NOT_CANDIDATE',
    'refused move: E_NO_CANDIDATE', 'stop p0 (node-down)',
  ]);
  const [refused] = w.plan({ kind: 'move', group: 'web', node: 'wit' });
  assert.ok(refused?.kind === 'refused');
  assert.match(refused.problems[0]?.message ?? '', /witness-agent/);
});

test('witness agents, paused and joining nodes get no groups; anti-affinity keeps groups apart', () => {
  const w = new World(4);
  w.must(addNode(5, 'wit', { kind: 'witness-agent' }), { type: 'node.set', node: 'n2', paused: true });
  w.liveness.set('n4', 'Joining');
  for (const name of ['a', 'b', 'c']) w.group(name, { antiAffinityClasses: ['sql'], preferredOwners: ['n3'] });
  w.settle(...['a', 'b', 'c'].map((group): AdminIntent => ({ kind: 'online', group })));
  assert.deepEqual(['a', 'b', 'c'].map((g) => w.owner(g)), ['n3', 'n1', 'n3'], 'the third shares a node only when no node is free of the class');
});

/** A seeded generator (mulberry32), so a failing run replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A busy random history: nodes go down and come back, drain, resources fail, administrators ask. */
function churn(w: World, random: () => number, steps: number, onStep: (decisions: string[]) => void): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const groups = ['g1', 'g2', 'g3', 'g4', 'g5'];
  groups.forEach((g, i) => w.group(g, { preferredOwners: ['n1', 'n2', 'n3'].slice(i % 3), failback: pick(['never', 'immediate'] as const), priority: i * 700 }, [`${g}-r`]));
  onStep(w.step(...groups.map((group): AdminIntent => ({ kind: 'online', group }))));
  for (let i = 0; i < steps; i++) {
    w.now += 100;
    const roll = random();
    const node = pick(['n1', 'n2', 'n3', 'n4']);
    if (roll < 0.2) w.liveness.set(node, 'Down');
    else if (roll < 0.4) w.liveness.delete(node);
    else if (roll < 0.5) w.must({ type: 'node.set', node, paused: random() < 0.5, drain: false });
    else if (roll < 0.6) {
      const r = `${pick(groups)}-r`;
      const p = w.h.db.getPlacement(r.slice(0, 2));
      const state = w.h.db.getResourceState(r);
      if (p?.node && w.h.db.groupState(r.slice(0, 2)) !== 'Failed' && (state?.epoch !== p.epoch || state.state === 'Offline')) w.report(r, 'OnlinePending', 'Failed');
    }
    const intents: AdminIntent[] = roll > 0.9 ? [{ kind: pick(['online', 'offline', 'move', 'cleanup'] as const), group: pick(groups) }] : [];
    onStep(w.step(...intents));
  }
}

test('rule 4: a placement on a node is proposed only after the lease granter allowed it, in the same plan', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = rng(seed);
    const w = new World(4);
    let allowed = new Set<string>();
    w.placeable = (group, node) => {
      if (random() < 0.5) return { ok: false, blockers: [{ reason: 'settling', until: w.now + 50 }] };
      allowed.add(`${group} ${node}`);
      return { ok: true, blockers: [] };
    };
    let starts = 0;
    churn(w, random, 150, (decisions) => {
      for (const d of decisions.filter((s) => s.startsWith('place '))) {
        const [, group, node] = d.split(' ');
        assert.ok(allowed.has(`${group} ${node}`), `seed ${seed}: ${d} without the granter's leave`);
        starts++;
      }
      allowed = new Set();
    });
    assert.ok(starts > 10, `seed ${seed}: the history places groups (${starts})`);
  }
});

test('rule 4: a planner told "not placeable" never proposes a placement on a node', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = new World(4);
    w.placeable = (_group, node) => ({ ok: false, blockers: [{ reason: 'held-elsewhere', node, until: 1e9 }] });
    let waits = 0;
    churn(w, rng(seed), 100, (decisions) => {
      assert.deepEqual(decisions.filter((s) => s.startsWith('place ')), [], `seed ${seed}`);
      waits += decisions.filter((s) => s.includes(' lease ')).length;
    });
    assert.ok(waits > 0, `seed ${seed}: groups wanted to start`);
  }
  const inconsistent = new World(2);
  inconsistent.group('web');
  inconsistent.placeable = () => ({ ok: true, blockers: [{ reason: 'not-granting' }] });
  assert.deepEqual(inconsistent.step({ kind: 'online', group: 'web' }), ['wait web lease n1 until null'], 'a blocker outweighs ok');
});

test('determinism: the same history in any record order gives the same decisions', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const runs: string[][] = [];
    for (const shuffled of [false, true]) {
      const w = new World(4);
      const order = rng(seed + 1000);
      if (shuffled) {
        w.shuffle = <T>(items: T[]): T[] => {
          const out = [...items];
          for (let i = out.length - 1; i > 0; i--) {
            const j = Math.floor(order() * (i + 1));
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
      }
      const log: string[] = [];
      churn(w, rng(seed), 120, (decisions) => log.push(decisions.join('; ')));
      runs.push(log);
    }
    assert.deepEqual(runs[1], runs[0], `seed ${seed}`);
  }
});

test('with the real lease granter: a Down node\'s group starts elsewhere only after G since its last grant', () => {
  const w = new World(3);
  w.group('web', { preferredOwners: ['n1', 'n2'] });
  const granter = new LeaseGranter(defaultLeaseTiming, 0);
  w.placeable = (group, node) => granter.placeableAt(group, node, w.now);
  w.now = 100;
  assert.deepEqual(w.step({ kind: 'online', group: 'web' }), [`wait web lease n1 until ${granter.settledAt}`], 'a new leader settles first');
  w.now = granter.settledAt;
  assert.deepEqual(w.step(), ['place web n1 (online)']);
  const epoch = w.h.db.getPlacement('web')?.epoch ?? 0;
  const grantAt = 2000;
  const grant = granter.onRequest(
    { from: 'n1', session: 's1', seq: 1, appliedSeq: 0, held: [], stopped: [] },
    { placements: new Map([['web', { node: 'n1', epoch }]]), leaderLeaseUntil: Infinity },
    grantAt,
  );
  assert.ok(grant.ok && grant.grant.groups.length === 1);
  w.liveness.set('n1', 'Down');
  const g = settlePeriodMs(defaultLeaseTiming, defaultLeaseTiming.nodeLeaseMs);
  w.now = grantAt + g - 1;
  assert.deepEqual(w.step(), [`wait web lease n2 until ${grantAt + g}`]);
  w.now = grantAt + g;
  assert.deepEqual(w.step(), ['place web n2 (node-down)']);
});
