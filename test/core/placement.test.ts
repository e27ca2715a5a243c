import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Occupancy, chooseOwner, inFailbackWindow, isPossibleOwner, rankCandidates, unfitReasons } from '../../src/agent/core/placement.js';
import type { NodeState } from '../../src/agent/core/membership.js';
import type { Unfit } from '../../src/agent/core/placement.js';
import type { GroupRecord, NodeRecord, ResourceRecord } from '../../src/agent/db/schema.js';
import { DEFAULT_CHECK_INTERVALS, DEFAULT_DEADLINES, defaultGroup } from '../../src/agent/db/schema.js';

const node = (id: string, over: Partial<NodeRecord> = {}): NodeRecord => ({
  id, name: `name-${id}`, address: '10.0.0.1:2222', hostKey: 'key', incarnation: 'inc', voteWeight: 1, kind: 'node', paused: false, drain: false, resumed: null, ...over,
});
const group = (name: string, over: Partial<GroupRecord> = {}): GroupRecord => ({ ...defaultGroup(name), ...over });
const resource = (name: string, possibleOwners: string[]): ResourceRecord => ({
  name, group: 'g', type: 'process', parameters: {}, dependsOn: null, restart: null,
  deadlines: DEFAULT_DEADLINES, checkIntervals: DEFAULT_CHECK_INTERVALS, possibleOwners, isolate: false,
});

test('unfitReasons: every reason a node cannot start a group now', () => {
  const g = group('g', { possibleOwners: ['n1', 'n2'] });
  const cases: { name: string; node: NodeRecord | undefined; state: NodeState | undefined; resources?: ResourceRecord[]; want: Unfit[] }[] = [
    { name: 'up', node: node('n1'), state: 'Up', want: [] },
    { name: 'unknown node', node: undefined, state: 'Up', want: ['unknown-node'] },
    { name: 'witness agents never run groups', node: node('n1', { kind: 'witness-agent' }), state: 'Up', want: ['witness-agent'] },
    { name: 'down', node: node('n1'), state: 'Down', want: ['down'] },
    { name: 'never heard of: down', node: node('n1'), state: undefined, want: ['down'] },
    { name: 'joining', node: node('n1'), state: 'Joining', want: ['joining'] },
    { name: 'paused in the liveness view', node: node('n1'), state: 'Paused', want: ['paused'] },
    { name: 'paused in the database before the view shows it', node: node('n1', { paused: true }), state: 'Up', want: ['paused'] },
    { name: 'not a possible owner of the group', node: node('n3'), state: 'Up', want: ['not-possible-owner'] },
    { name: 'not a possible owner of a resource', node: node('n1'), state: 'Up', resources: [resource('r', ['n2'])], want: ['resource-not-possible-owner'] },
    {
      name: 'all at once',
      node: node('n3', { kind: 'witness-agent', paused: true }), state: 'Down', resources: [resource('r', ['n2'])],
      want: ['witness-agent', 'down', 'paused', 'not-possible-owner', 'resource-not-possible-owner'],
    },
  ];
  for (const c of cases) assert.deepEqual(unfitReasons(c.node, c.state, g, c.resources ?? []), c.want, c.name);
});

test('possible owners: the intersection of the group and every resource; an empty list allows all', () => {
  const cases: { group: string[]; resources: string[][]; want: string[] }[] = [
    { group: [], resources: [], want: ['n1', 'n2', 'n3', 'n4'] },
    { group: ['n1', 'n2', 'n3'], resources: [[]], want: ['n1', 'n2', 'n3'] },
    { group: ['n1', 'n2', 'n3'], resources: [['n2', 'n3', 'n4'], ['n3', 'n2']], want: ['n2', 'n3'] },
    { group: [], resources: [['n4'], ['n1']], want: [] },
  ];
  for (const c of cases) {
    const g = group('g', { possibleOwners: c.group });
    const rs = c.resources.map((owners, i) => resource(`r${i}`, owners));
    assert.deepEqual(['n1', 'n2', 'n3', 'n4'].filter((n) => isPossibleOwner(g, rs, n)), c.want, JSON.stringify(c));
  }
});

test('ranking: anti-affinity (soft) first, then preferred owners, then load, then node id', () => {
  const others = {
    a: group('a', { antiAffinityClasses: ['sql'] }),
    b: group('b', { antiAffinityClasses: ['sql', 'web'] }),
    c: group('c'),
    d: group('d'),
  };
  const cases: { name: string; g: GroupRecord; placed: [keyof typeof others, string][]; candidates: string[]; want: string[] }[] = [
    { name: 'node id breaks ties', g: group('g'), placed: [], candidates: ['n3', 'n1', 'n2'], want: ['n1', 'n2', 'n3'] },
    { name: 'fewest groups first', g: group('g'), placed: [['c', 'n1'], ['d', 'n1'], ['a', 'n2']], candidates: ['n1', 'n2', 'n3'], want: ['n3', 'n2', 'n1'] },
    {
      name: 'preferred owners in order, then the rest by load',
      g: group('g', { preferredOwners: ['n3', 'n1'] }), placed: [['c', 'n3'], ['d', 'n3'], ['a', 'n4']], candidates: ['n1', 'n2', 'n3', 'n4'],
      want: ['n3', 'n1', 'n2', 'n4'],
    },
    {
      name: 'a clash outweighs preference: broken only when every candidate breaks it',
      g: group('g', { preferredOwners: ['n1', 'n2'], antiAffinityClasses: ['sql'] }), placed: [['a', 'n1']], candidates: ['n1', 'n2', 'n3'],
      want: ['n2', 'n3', 'n1'],
    },
    {
      name: 'every candidate clashes: fewest clashes first; a group sharing two classes counts once',
      g: group('g', { preferredOwners: ['n1'], antiAffinityClasses: ['sql', 'web'] }), placed: [['a', 'n1'], ['c', 'n1'], ['b', 'n2'], ['a', 'n3'], ['b', 'n3']],
      candidates: ['n1', 'n2', 'n3'], want: ['n1', 'n2', 'n3'],
    },
    {
      name: 'the group itself is no clash',
      g: group('a', { antiAffinityClasses: ['sql'] }), placed: [['a', 'n1'], ['c', 'n2']], candidates: ['n1', 'n2'], want: ['n1', 'n2'],
    },
  ];
  for (const c of cases) {
    const occupancy = new Occupancy();
    for (const [name, at] of c.placed) occupancy.place(others[name], at);
    assert.deepEqual(rankCandidates(c.g, c.candidates, occupancy), c.want, c.name);
  }
});

test('chooseOwner: the node the group just failed on only when it is the only candidate', () => {
  const g = group('g', { preferredOwners: ['n1', 'n2'] });
  const occupancy = new Occupancy();
  const cases: { candidates: string[]; avoid: string | null; want: string | null }[] = [
    { candidates: ['n1', 'n2', 'n3'], avoid: null, want: 'n1' },
    { candidates: ['n1', 'n2', 'n3'], avoid: 'n1', want: 'n2' },
    { candidates: ['n1'], avoid: 'n1', want: 'n1' },
    { candidates: [], avoid: 'n1', want: null },
  ];
  for (const c of cases) assert.equal(chooseOwner(g, c.candidates, occupancy, c.avoid), c.want, JSON.stringify(c));
});

test('occupancy: planned moves change load and clashes', () => {
  const a = group('a', { antiAffinityClasses: ['x'] });
  const g = group('g', { antiAffinityClasses: ['x'] });
  const occupancy = new Occupancy();
  occupancy.place(a, 'n1');
  assert.deepEqual([occupancy.load('n1'), occupancy.clashes('n1', g)], [1, 1]);
  occupancy.remove('a', 'n1');
  occupancy.place(a, 'n2');
  assert.deepEqual([occupancy.load('n1'), occupancy.clashes('n1', g), occupancy.load('n2'), occupancy.clashes('n2', g)], [0, 0, 1, 1]);
});

test('failback window: hours of the day, [start, end), wrapping midnight', () => {
  const cases: { window: [number, number]; inside: number[]; outside: number[] }[] = [
    { window: [22, 6], inside: [22, 23, 0, 3, 5, 5.99], outside: [6, 12, 21, 21.5] },
    { window: [9, 17], inside: [9, 12, 16, 16.5], outside: [8, 17, 23, 0] },
    { window: [23, 0], inside: [23], outside: [0, 22, 1] },
  ];
  for (const c of cases) {
    const window = { startHour: c.window[0], endHour: c.window[1] };
    for (const h of c.inside) assert.equal(inFailbackWindow(window, h), true, `${c.window.join('-')} at ${h}`);
    for (const h of c.outside) assert.equal(inFailbackWindow(window, h), false, `${c.window.join('-')} at ${h}`);
  }
});
