// Table-driven: key=value words of group and resource commands → typed
// settings, and every problem at once as a usage error (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroupSettings, parseResourceSettings } from '../../src/cli/commands/settings.js';
import { parseTypeName } from '../../src/cli/commands/resources.js';
import { UsageError } from '../../src/cli/errors.js';

/** The usage error's message, or 'ok'. */
function problem(parse: () => unknown): string {
  try {
    parse();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.exitCode, 2);
    return err.message;
  }
}

test('group settings: each key converts to its type; nested keys with a dot', () => {
  const cases: [string[], unknown][] = [
    [[], {}],
    [['priority=1000', 'failoverThreshold=-1'], { priority: 1000, failoverThreshold: -1 }],
    [['failoverPeriod=2h', 'restart.delay=500ms', 'restart.period=10m'], { failoverPeriod: 7_200_000, restart: { delay: 500, period: 600_000 } }],
    [['preferredOwners=node1,node2', 'possibleOwners='], { preferredOwners: ['node1', 'node2'], possibleOwners: [] }],
    [['failback=window', 'failbackWindow=22-6'], { failback: 'window', failbackWindow: '22-6' }],
    [['failbackWindow='], { failbackWindow: null }],
    [['restart.failGroupOver=no', 'restart.maxRestarts=0'], { restart: { failGroupOver: false, maxRestarts: 0 } }],
    [['restart.failGroupOver=TRUE'], { restart: { failGroupOver: true } }],
    [['antiAffinityClasses=sql,web'], { antiAffinityClasses: ['sql', 'web'] }],
  ];
  for (const [words, want] of cases) assert.deepEqual(parseGroupSettings(words), want, words.join(' '));
});

test('group settings: every problem in one usage error', () => {
  const cases: [string[], RegExp][] = [
    [['priority=high'], /priority: 'high' is not a whole number/],
    [['failoverPeriod=5'], /failoverPeriod: invalid duration '5': it has no unit/],
    [['failback=sometimes'], /failback: 'sometimes' is not one of never, immediate, window/],
    [['restart.failGroupOver=maybe'], /'maybe' is not true or false/],
    [['preferredOwners=a,b c'], /preferredOwners: invalid node names in 'a,b c'/],
    [['prority=1'], /there is no group setting 'prority' \(did you mean 'priority'\?\)/],
    [['isolate=true'], /there is no group setting 'isolate'/],
    [['priority'], /'priority' has no '='/],
    [['priority=1', 'priority=2'], /priority is given twice/],
    [['priority=x', 'failback=y', 'nope=1'], /priority: .*; failback: .*; there is no group setting 'nope'/],
  ];
  for (const [words, want] of cases) assert.match(problem(() => parseGroupSettings(words)), want, words.join(' '));
});

test('resource words: settings by key, every other key a parameter; key= removes a parameter only in set', () => {
  const cases: [string[], boolean, unknown][] = [
    [['address=10.0.0.1/24'], false, { parameters: { address: '10.0.0.1/24' }, settings: {} }],
    [['command=/bin/app -x', 'env=A=1 B=2'], false, { parameters: { command: '/bin/app -x', env: 'A=1 B=2' }, settings: {} }],
    [['cwd='], true, { parameters: { cwd: null }, settings: {} }],
    [
      ['deadlines.start=2m', 'checkIntervals.quick=1s', 'isolate=yes', 'possibleOwners=node1', 'restart.maxRestarts=5'], false,
      { parameters: {}, settings: { deadlines: { start: 120_000 }, checkIntervals: { quick: 1000 }, isolate: true, possibleOwners: ['node1'], restart: { maxRestarts: 5 } } },
    ],
    [['restart='], true, { parameters: {}, settings: { restart: null } }],
  ];
  for (const [words, removable, want] of cases) assert.deepEqual(parseResourceSettings(words, removable), want, words.join(' '));
});

test('resource words: every problem in one usage error', () => {
  const cases: [string[], boolean, RegExp][] = [
    [['cwd='], false, /parameter cwd has no value/],
    [['deadlines.begin=1s'], false, /there is no resource setting 'deadlines.begin'/],
    [['deadlines.start=fast', 'isolate=2'], false, /deadlines.start: invalid duration 'fast'.*; isolate: '2' is not true or false/],
    [['restart=group'], true, /restart: only 'restart=' \(empty\) is allowed/],
    [['restart=', 'restart.delay=1s'], true, /cannot be combined/],
  ];
  for (const [words, removable, want] of cases) assert.match(problem(() => parseResourceSettings(words, removable)), want, words.join(' '));
});

test('type names: a name, or an OCF agent as ocf:PROVIDER:AGENT', () => {
  const cases: [string, string][] = [
    ['process', 'ok'],
    ['ocf:heartbeat:IPaddr2', 'ok'],
    ['ocf:heartbeat', "invalid type 'ocf:heartbeat': an OCF agent is ocf:PROVIDER:AGENT"],
    ['ocf:heart beat:x', "invalid OCF provider name 'heart beat': space is not allowed"],
    ['lsb:apache', "invalid type name 'lsb:apache': ':' is not allowed"],
  ];
  for (const [text, want] of cases) assert.equal(problem(() => parseTypeName(text)), want, text);
});
