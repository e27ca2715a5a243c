import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependenciesMet, dependents, startOrder } from '../../src/agent/core/controller-order.js';
import { parseDependency } from '../../src/agent/db/dependency.js';
import type { DependencyExpr } from '../../src/agent/db/dependency.js';
import { DEFAULT_CHECK_INTERVALS, DEFAULT_DEADLINES } from '../../src/agent/db/schema.js';
import type { ResourceRecord } from '../../src/agent/db/schema.js';

function expr(text: string): DependencyExpr | null {
  if (text === '') return null;
  const p = parseDependency(text);
  assert.ok(p.ok, text);
  return p.expr;
}

const res = (name: string, dependsOn = ''): ResourceRecord => ({
  name, group: 'G', type: 'process', parameters: {}, dependsOn: expr(dependsOn), restart: null,
  deadlines: DEFAULT_DEADLINES, checkIntervals: DEFAULT_CHECK_INTERVALS, possibleOwners: [], isolate: false,
});

test('dependenciesMet evaluates and/or over the online set', () => {
  const cases: [string, string[], boolean][] = [
    ['', [], true],
    ['A', [], false],
    ['A', ['A'], true],
    ['A and B', ['A'], false],
    ['A and B', ['A', 'B'], true],
    ['A or B', ['B'], true],
    ['A and (B or C)', ['A', 'C'], true],
    ['A and (B or C)', ['B', 'C'], false],
    ['A or B and C', ['B'], false],
    ['A or B and C', ['A'], true],
  ];
  for (const [text, online, want] of cases) assert.equal(dependenciesMet(expr(text), new Set(online)), want, `${text} over ${online.join(',')}`);
});

test('startOrder puts every resource after what its expression names, ties by name', () => {
  const cases: [ResourceRecord[], string[]][] = [
    [[res('c'), res('b'), res('a')], ['a', 'b', 'c']],
    [[res('app', 'ip and disk'), res('ip'), res('disk')], ['disk', 'ip', 'app']],
    [[res('web', 'app'), res('app', 'db'), res('db')], ['db', 'app', 'web']],
    // Both sides of an `or` come first.
    [[res('a', 'z or y'), res('z'), res('y')], ['y', 'z', 'a']],
    // A name outside the group (a deleted resource) does not hold anything back.
    [[res('a', 'gone'), res('b')], ['a', 'b']],
    // A cycle (refused by the database) ends up last, in name order.
    [[res('x', 'y'), res('y', 'x'), res('m')], ['m', 'x', 'y']],
  ];
  for (const [resources, want] of cases) assert.deepEqual(startOrder(resources).map((r) => r.name), want);
});

test('dependents lists who must stop first', () => {
  const d = dependents([res('app', 'ip and (disk or nfs)'), res('ip'), res('disk'), res('nfs'), res('web', 'app')]);
  assert.deepEqual(Object.fromEntries(d), { app: ['web'], ip: ['app'], disk: ['app'], nfs: ['app'], web: [] });
});
