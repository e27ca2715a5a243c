import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyNames, findCycle, formatDependency, parseDependency, withoutResource } from '../../src/agent/db/dependency.js';
import type { DependencyExpr } from '../../src/agent/db/dependency.js';

function parse(text: string): DependencyExpr {
  const result = parseDependency(text);
  assert.ok(result.ok, `${text}: ${result.ok ? '' : result.message}`);
  return result.expr;
}

test('dependency expressions parse and format back to an equivalent text', () => {
  const cases: [string, string][] = [
    ['A', 'A'],
    ['A and B', 'A and B'],
    ['A AND B and C', 'A and B and C'],
    ['A and (B or C)', 'A and (B or C)'],
    ['A or B and C', 'A or (B and C)'],
    ['(A or B) and (C or D)', '(A or B) and (C or D)'],
    ['((A))', 'A'],
    ['A and (B and C)', 'A and B and C'],
    ['  ip-1  and\tdisk_1.a ', 'ip-1 and disk_1.a'],
  ];
  for (const [text, formatted] of cases) {
    const expr = parse(text);
    assert.equal(formatDependency(expr), formatted, text);
    assert.deepEqual(parse(formatted), expr, `${text} round trip`);
  }
});

test('and binds tighter than or; nested same operators are flattened', () => {
  assert.deepEqual(parse('A or B and C'), {
    op: 'or',
    args: [{ op: 'ref', name: 'A' }, { op: 'and', args: [{ op: 'ref', name: 'B' }, { op: 'ref', name: 'C' }] }],
  });
  assert.deepEqual(parse('A and (B and C)'), { op: 'and', args: ['A', 'B', 'C'].map((name) => ({ op: 'ref', name })) });
});

test('syntax errors name the position', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['A and', 5],
    ['and A', 0],
    ['A B', 2],
    ['(A or B', 7],
    ['A or B)', 6],
    ['A & B', 2],
    ['A and -b', 6],
    ['A and ()', 7],
  ];
  for (const [text, position] of cases) {
    const result = parseDependency(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) assert.equal(result.position, position, `${text}: ${result.message}`);
  }
});

test('names, removal and cycles', () => {
  assert.deepEqual(dependencyNames(parse('C and (A or C) and B')), ['A', 'B', 'C']);
  assert.equal(formatDependency(withoutResource(parse('A and (B or C)'), 'B') as DependencyExpr), 'A and C');
  assert.equal(formatDependency(withoutResource(parse('A and (B or C)'), 'A') as DependencyExpr), 'B or C');
  assert.equal(withoutResource(parse('A and A'), 'A'), null);

  assert.equal(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), null);
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.deepEqual(findCycle(new Map([['x', ['x']]])), ['x', 'x']);
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c', 'd']], ['d', ['b']]])), ['b', 'd', 'b']);
  // A diamond is not a cycle.
  assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['d']], ['c', ['d']]])), null);
  // A chain far longer than any stack depth a recursive walk could take.
  const chain = new Map(Array.from({ length: 50_000 }, (_, i) => [`r${i}`, i === 0 ? [] : [`r${i - 1}`]]));
  assert.equal(findCycle(chain), null);
  chain.set('r0', ['r49999']);
  assert.equal(findCycle(chain)?.length, 50_001);
});
