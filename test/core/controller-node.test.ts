// Table-driven sequences for the node controller. Each step gives the
// local time, an input, and the actions expected, written compactly:
//   guard#1<900>[G]      a guard lease (seq, deadline, groups)
//   online:disk<900>     a monitor operation (online carries notAfter)
//   disk=OnlinePending   a resource state report
//   stopped:G@3          a stop confirmed to the lease holder
// Inputs: `lease +G@3 -G@2 until 1000 [guard 900]` (guard deadline, by
// default until - λ - K = until - 100), `ack 1`, `expired 900`, `killed G`, `ok R` / `fail R` /
// `late R` / `canceled R` (the outcome of R's pending operation), `health R`
// (a failed health check), `tick`, `place G n1 3`, `state R Failed 3 77`,
// `restart G R 3 77`, `hold G R 3`, `want R offline` (resource offline),
// `failreq R 2` (resource fail, counted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeController } from '../../src/agent/core/controller-node.js';
import type { ControllerView, MonitorOp, NodeActions } from '../../src/agent/core/controller-io.js';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import type { GroupEpoch } from '../../src/agent/core/lease-messages.js';
import { parseDependency } from '../../src/agent/db/dependency.js';
import { DEFAULT_CHECK_INTERVALS, DEFAULT_DEADLINES } from '../../src/agent/db/schema.js';
import type { PlacementRecord, ResourceRecord, ResourceRequestRecord, ResourceState, ResourceStateRecord } from '../../src/agent/db/schema.js';

const GUARD_MARGIN = defaultLeaseTiming.guardLatencyMs + defaultLeaseTiming.killTimeMs;

function res(name: string, dependsOn = '', group = 'G'): ResourceRecord {
  const p = dependsOn === '' ? null : parseDependency(dependsOn);
  if (p !== null && !p.ok) throw new Error(dependsOn);
  return {
    name, group, type: 'process', parameters: {}, dependsOn: p === null ? null : p.expr, restart: null,
    deadlines: DEFAULT_DEADLINES, checkIntervals: DEFAULT_CHECK_INTERVALS, possibleOwners: [], isolate: false,
  };
}

function fmt(a: NodeActions): string {
  const parts: string[] = [];
  if (a.guard !== null) parts.push(`guard#${a.guard.seq}<${a.guard.deadline}>[${a.guard.groups.join(',')}]`);
  for (const op of a.monitor) parts.push(`${op.kind}:${op.resource}${op.notAfter !== null ? `<${op.notAfter}>` : ''}`);
  for (const r of a.reports) parts.push(`${r.resource}=${r.state}`);
  for (const s of a.stopped) parts.push(`stopped:${s.group}@${s.epoch}`);
  return parts.join(' ');
}

interface Step {
  at: number;
  do: string;
  want: string;
}

/** Runs the steps on node n1 with `resources`; the applied database starts with `placed` (group, epoch on n1). */
function run(name: string, resources: ResourceRecord[], placed: [string, number][], steps: Step[]): NodeController {
  const c = new NodeController({ node: 'n1', timing: defaultLeaseTiming });
  const placements = new Map<string, PlacementRecord>(placed.map(([group, epoch]) => [group, { group, node: 'n1', epoch, at: 0 }]));
  const states = new Map<string, ResourceStateRecord>();
  const requests = new Map<string, ResourceRequestRecord>();
  const pending = new Map<string, MonitorOp>();
  const view = (): ControllerView => ({ placements: [...placements.values()], resources, resourceStates: [...states.values()], resourceRequests: [...requests.values()] });
  const request = (resource: string): ResourceRequestRecord => requests.get(resource) ?? { resource, desired: 'online', failRequest: 0, cleanupRequest: 0 };
  const pair = (text: string): GroupEpoch => {
    const [group, epoch] = text.split('@');
    return { group: group as string, epoch: Number(epoch) };
  };
  let out = fmt(c.onCommitted(view(), 0));
  assert.equal(out, '', `${name}: nothing before a lease`);
  for (const step of steps) {
    const [verb, ...args] = step.do.split(' ');
    const at = step.at;
    const opOf = (resource: string): number => {
      const op = pending.get(resource);
      assert.ok(op !== undefined, `${name} @${at}: no operation pending on ${resource}`);
      pending.delete(resource);
      return op.id;
    };
    let a: NodeActions;
    switch (verb) {
      case 'lease': {
        const start = args.filter((x) => x.startsWith('+')).map((x) => pair(x.slice(1)));
        const stop = args.filter((x) => x.startsWith('-')).map((x) => pair(x.slice(1)));
        const i = args.indexOf('until');
        const until = i >= 0 ? Number(args[i + 1]) : -Infinity;
        // A dropped group keeps the lease it ran under: the holder's guard deadline may be earlier than until - λ - K.
        const g = args.indexOf('guard');
        const guardDeadline = g >= 0 ? Number(args[g + 1]) : until - GUARD_MARGIN;
        a = c.onLease({ start, stop }, { until, guardDeadline }, at);
        break;
      }
      case 'ack':
        a = c.onGuard({ kind: 'acked', seq: Number(args[0]) }, at);
        break;
      case 'expired':
        a = c.onGuard({ kind: 'expired', deadline: Number(args[0]) }, at);
        break;
      case 'killed':
        a = c.onGuard({ kind: 'killed', group: args[0] as string }, at);
        break;
      case 'ok':
      case 'fail':
      case 'late':
      case 'canceled': {
        const outcome = verb === 'fail' ? 'failed' : verb === 'late' ? 'expired' : verb;
        a = c.onMonitor({ kind: 'done', id: opOf(args[0] as string), outcome }, at);
        break;
      }
      case 'health':
        a = c.onMonitor({ kind: 'failed', group: 'G', resource: args[0] as string, reason: 'not running' }, at);
        break;
      case 'tick':
        a = c.tick(at);
        break;
      case 'place':
        placements.set(args[0] as string, { group: args[0] as string, node: args[1] === '-' ? null : (args[1] as string), epoch: Number(args[2]), at: 0 });
        a = c.onCommitted(view(), at);
        break;
      case 'state': {
        const [resource, state, epoch, since] = args as [string, ResourceState, string, string];
        states.set(resource, { resource, state, node: 'n1', epoch: Number(epoch), since: Number(since), reason: null });
        a = c.onCommitted(view(), at);
        break;
      }
      case 'restart':
        a = c.onOrder({ kind: 'restart', group: args[0] as string, resource: args[1] as string, epoch: Number(args[2]), failedSince: Number(args[3]) }, at);
        break;
      case 'want':
        requests.set(args[0] as string, { ...request(args[0] as string), desired: args[1] as 'online' | 'offline' });
        a = c.onCommitted(view(), at);
        break;
      case 'failreq':
        requests.set(args[0] as string, { ...request(args[0] as string), failRequest: Number(args[1]) });
        a = c.onCommitted(view(), at);
        break;
      case 'hold':
        a = c.onOrder({ kind: 'stop-resource', group: args[0] as string, resource: args[1] as string, epoch: Number(args[2]) }, at);
        break;
      default:
        throw new Error(`unknown step ${step.do}`);
    }
    for (const op of a.monitor) pending.set(op.resource, op);
    out = fmt(a);
    assert.equal(out, step.want, `${name} @${at} after "${step.do}"`);
  }
  return c;
}

const appGroup = [res('app', 'ip and disk'), res('ip'), res('disk')];

/** The group comes up: guard lease acknowledged, then disk and ip, then app. */
const upSteps: Step[] = [
  { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
  { at: 11, do: 'ack 1', want: 'online:disk<900> online:ip<900> disk=OnlinePending ip=OnlinePending' },
  { at: 20, do: 'ok disk', want: 'disk=Online' },
  { at: 30, do: 'ok ip', want: 'online:app<900> ip=Online app=OnlinePending' },
  { at: 40, do: 'ok app', want: 'app=Online' },
];

test('starts in dependency order, once the guard holds a lease listing the group', () => {
  const c = run('up', appGroup, [['G', 3]], upSteps);
  assert.deepEqual(c.status(), [{
    group: 'G', epoch: 3, allowed: true,
    resources: ['disk', 'ip', 'app'].map((name) => ({ name, state: 'Online', mayRun: true, failed: false })),
  }]);
});

test('stops in reverse order when the lease drops the group, confirming only when all are offline', () => {
  run('drop', appGroup, [['G', 3]], [
    ...upSteps,
    { at: 100, do: 'lease -G@3 until 1100 guard 900', want: 'offline:app app=OfflinePending' },
    { at: 110, do: 'ok app', want: 'offline:ip offline:disk app=Offline ip=OfflinePending disk=OfflinePending' },
    { at: 120, do: 'ok ip', want: 'ip=Offline' },
    { at: 130, do: 'ok disk', want: 'guard#2<900>[] disk=Offline stopped:G@3' },
  ]);
});

test('at lease expiry the group stops; nothing starts after the lease end even when the monitor is slow', () => {
  run('expiry', appGroup, [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:disk<900> online:ip<900> disk=OnlinePending ip=OnlinePending' },
    { at: 20, do: 'ok disk', want: 'disk=Online' },
    // The lease ends (the holder's tick says so) while ip's start is still queued at a paused monitor.
    { at: 1000, do: 'lease -G@3 until 1000', want: 'offline:disk disk=OfflinePending' },
    // The monitor wakes after the guard deadline: it begins nothing.
    { at: 1500, do: 'late ip', want: 'ip=Offline' },
    { at: 1510, do: 'ok disk', want: 'guard#2<900>[] disk=Offline stopped:G@3' },
    { at: 1600, do: 'tick', want: '' },
  ]);
});

test('no start with less than 2 h left before the acknowledged guard deadline, nor before the database shows the placement', () => {
  run('margins', [res('a')], [], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: '' }, // the applied database does not place it here yet
    { at: 701, do: 'place G n1 3', want: '' }, // 199 ms left
    { at: 720, do: 'lease until 1720', want: 'guard#2<1620>[G]' },
    { at: 721, do: 'ack 2', want: 'online:a<1620> a=OnlinePending' },
  ]);
});

test('the guard killing everything confirms the stop even while the monitor is stuck', () => {
  run('guard', appGroup, [['G', 3]], [
    ...upSteps,
    { at: 100, do: 'lease -G@3 until 1100 guard 900', want: 'offline:app app=OfflinePending' },
    { at: 900, do: 'expired 900', want: 'app=Offline ip=Offline disk=Offline stopped:G@3' },
    // The stuck offline answers at last; only then is the run forgotten.
    { at: 1200, do: 'ok app', want: 'guard#2<900>[]' },
  ]);
});

test('an online operation pending when the guard expired cannot have started anything', () => {
  run('killed-op', [res('a')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 900, do: 'expired 900', want: 'a=Offline' },
    { at: 950, do: 'ok a', want: '' },
    // A new lease: the guard must acknowledge it before a start.
    { at: 960, do: 'lease until 1960', want: 'guard#2<1860>[G]' },
    { at: 961, do: 'ack 2', want: 'online:a<1860> a=OnlinePending' },
  ]);
});

test('a guard kill of one group leaves a pending online operation to its outcome', () => {
  run('killed', [res('a'), res('b')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> online:b<900> a=OnlinePending b=OnlinePending' },
    { at: 20, do: 'ok a', want: 'a=Online' },
    { at: 30, do: 'killed G', want: 'online:a<900> a=Offline a=OnlinePending' },
    { at: 40, do: 'ok b', want: 'b=Online' },
  ]);
});

test('a failure is cleaned up and reported; the resource restarts only on the leader order for that failure', () => {
  run('failure', appGroup, [['G', 3]], [
    ...upSteps,
    { at: 200, do: 'health ip', want: 'offline:ip ip=Failed' },
    { at: 210, do: 'ok ip', want: '' },
    { at: 300, do: 'restart G ip 3 76', want: '' }, // a failure the database does not show
    { at: 310, do: 'state ip Failed 3 77', want: '' }, // ... and never does: that order is not taken
    { at: 320, do: 'restart G ip 4 77', want: '' }, // another placement
    { at: 330, do: 'restart G ip 3 77', want: 'online:ip<900> ip=OnlinePending' },
    { at: 340, do: 'ok ip', want: 'ip=Online' },
  ]);
});

test('a restart order that overtakes the commit of its failure is taken once the database shows that failure', () => {
  run('order-first', appGroup, [['G', 3]], [
    ...upSteps,
    { at: 200, do: 'health ip', want: 'offline:ip ip=Failed' },
    { at: 210, do: 'ok ip', want: '' },
    { at: 300, do: 'restart G ip 3 77', want: '' }, // the database does not show that failure yet
    { at: 305, do: 'tick', want: '' },
    { at: 310, do: 'state ip Failed 3 77', want: 'online:ip<900> ip=OnlinePending' },
    { at: 320, do: 'ok ip', want: 'ip=Online' },
  ]);
});

test('a failure the database shows holds the group back across runs of the epoch, until a cleanup shows Offline', () => {
  run('held-back', [res('a'), res('b', 'a')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 20, do: 'ok a', want: 'online:b<900> a=Online b=OnlinePending' },
    { at: 30, do: 'fail b', want: 'offline:b b=Failed' },
    { at: 40, do: 'ok b', want: '' },
    { at: 50, do: 'state b Failed 3 77', want: '' },
    // The lease lapses and comes back under the same epoch: a new run, but b stays Failed and nothing starts.
    { at: 1000, do: 'lease -G@3 until 1000', want: 'offline:a a=OfflinePending' },
    { at: 1010, do: 'ok a', want: 'guard#2<900>[] a=Offline stopped:G@3' },
    { at: 1020, do: 'lease +G@3 until 2000', want: 'guard#3<1900>[G]' },
    { at: 1021, do: 'ack 3', want: '' },
    { at: 1400, do: 'tick', want: '' },
    // An administrator's cleanup: the database shows b Offline; the group comes up again.
    { at: 1500, do: 'state b Offline 3 90', want: 'online:a<1900> a=OnlinePending' },
    { at: 1510, do: 'ok a', want: 'online:b<1900> a=Online b=OnlinePending' },
  ]);
});

test('a failed start is cleaned up too; a failed stop is terminated', () => {
  run('fail-ops', [res('a')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 20, do: 'fail a', want: 'offline:a a=Failed' },
    { at: 30, do: 'fail a', want: 'terminate:a' },
    { at: 40, do: 'ok a', want: '' },
    { at: 100, do: 'lease -G@3 until 1100 guard 900', want: 'guard#2<900>[] stopped:G@3' },
  ]);
});

test('resources the leader stops for a failure the database shows stay down until it is cleaned up', () => {
  run('hold', [res('a'), res('b', 'a'), res('c')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> online:c<900> a=OnlinePending c=OnlinePending' },
    { at: 20, do: 'ok a', want: 'online:b<900> a=Online b=OnlinePending' },
    { at: 30, do: 'ok b', want: 'b=Online' },
    { at: 40, do: 'ok c', want: 'c=Online' },
    { at: 50, do: 'health b', want: 'offline:b b=Failed' },
    { at: 60, do: 'ok b', want: '' },
    { at: 70, do: 'hold G a 3', want: '' }, // the database does not show a failure: a stale order
    { at: 80, do: 'state b Failed 3 77', want: '' },
    { at: 90, do: 'hold G a 3', want: 'offline:a a=OfflinePending' },
    { at: 95, do: 'hold G c 3', want: 'offline:c c=OfflinePending' },
    { at: 100, do: 'ok a', want: 'a=Offline' },
    { at: 110, do: 'ok c', want: 'c=Offline' },
    { at: 120, do: 'tick', want: '' },
    // Cleaned up: b Offline in the database; the hold lifts and the group comes up again.
    { at: 200, do: 'state b Offline 3 90', want: 'online:a<900> online:c<900> a=OnlinePending c=OnlinePending' },
    { at: 210, do: 'ok a', want: 'online:b<900> a=Online b=OnlinePending' },
  ]);
});

test('a resource kept offline goes down with what depends on it, and comes back when wanted online', () => {
  run('desired', [res('a'), res('b', 'a'), res('c')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> online:c<900> a=OnlinePending c=OnlinePending' },
    { at: 20, do: 'ok a', want: 'online:b<900> a=Online b=OnlinePending' },
    { at: 30, do: 'ok b', want: 'b=Online' },
    { at: 40, do: 'ok c', want: 'c=Online' },
    { at: 50, do: 'want a offline', want: 'offline:b b=OfflinePending' },
    { at: 60, do: 'ok b', want: 'offline:a b=Offline a=OfflinePending' },
    { at: 70, do: 'ok a', want: 'a=Offline' },
    { at: 80, do: 'want a online', want: 'online:a<900> a=OnlinePending' },
    { at: 90, do: 'ok a', want: 'online:b<900> a=Online b=OnlinePending' },
  ]);
});

test('resource fail: a higher fail count than the run found fails the resource', () => {
  run('failreq', [res('a')], [['G', 3]], [
    { at: 5, do: 'failreq a 4', want: '' }, // counted before the run began: not for this run
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 20, do: 'ok a', want: 'a=Online' },
    { at: 30, do: 'failreq a 4', want: '' },
    { at: 40, do: 'failreq a 5', want: 'offline:a a=Failed' },
  ]);
});

test('a new epoch waits for the group\'s older run to stop', () => {
  run('epochs', [res('a')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 20, do: 'ok a', want: 'a=Online' },
    { at: 100, do: 'lease -G@3 +G@5 until 1100 guard 900', want: 'offline:a a=OfflinePending' },
    { at: 110, do: 'place G n1 5', want: '' },
    { at: 120, do: 'ok a', want: 'online:a<900> a=OnlinePending stopped:G@3' },
  ]);
});

test('a report the database does not show is sent again after E_min, then after 2, 4, 8 E_min, along a path it accepts', () => {
  run('resend', [res('a')], [['G', 3]], [
    { at: 10, do: 'lease +G@3 until 1000', want: 'guard#1<900>[G]' },
    { at: 11, do: 'ack 1', want: 'online:a<900> a=OnlinePending' },
    { at: 20, do: 'ok a', want: 'a=Online' },
    { at: 200, do: 'tick', want: '' },
    { at: 320, do: 'tick', want: 'a=OnlinePending a=Online' },
    // Each resend waits twice as long as the last, so a slow log is not flooded.
    { at: 620, do: 'tick', want: '' },
    { at: 920, do: 'tick', want: 'a=OnlinePending a=Online' },
    { at: 930, do: 'state a Online 3 5', want: '' },
    { at: 950, do: 'tick', want: '' },
  ]);
});
