import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/errors.js';
import { MAX_NAME_LENGTH, parseCount, parseDuration, parseName, parseNames } from '../../src/cli/parse.js';

test('durations convert to milliseconds', () => {
  const cases: Array<[string, number]> = [
    ['0ms', 0], ['500ms', 500], ['5s', 5_000], ['10m', 600_000], ['1h', 3_600_000], ['90s', 90_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('malformed durations are usage errors that say why', () => {
  const cases: Array<[string, RegExp]> = [
    ['5', /no unit/], ['', /not a duration/], ['5x', /not a duration/], ['-5s', /not a duration/],
    ['1.5s', /not a duration/], ['5 s', /not a duration/], ['5S', /not a duration/], [' 5s', /not a duration/],
    ['99999999999999999h', /too long/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseDuration(text), (err: unknown) => {
      assert.ok(err instanceof UsageError, text);
      assert.equal(err.code, 'E_USAGE');
      assert.match(err.message, why, text);
      assert.ok(err.hint?.includes('500ms'), 'the hint shows the accepted forms');
      return true;
    });
  }
});

test('names: letters, digits, -, _ and . are accepted', () => {
  for (const name of ['web', 'node-1', 'db_primary', 'v1.2', 'A9', 'x'.repeat(MAX_NAME_LENGTH)]) {
    assert.equal(parseName(name, 'group'), name);
  }
});

test('names: everything else is refused, every problem in one message', () => {
  const cases: Array<[string, RegExp[]]> = [
    ['', [/empty/]],
    ['a b', [/space is not allowed/]],
    ['web!', [/'!' is not allowed/]],
    ['-rf', [/starts with '-'/]],
    ['..', [/starts with '\.'/]],
    ['x'.repeat(MAX_NAME_LENGTH + 1), [/longer than 63/]],
    ['-a b/c', [/starts with '-'/, /space, '\/' are not allowed/]],
    ['café', [/'é' is not allowed/]],
  ];
  for (const [text, problems] of cases) {
    assert.throws(() => parseName(text, 'group'), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^invalid group name/);
      for (const problem of problems) assert.match(err.message, problem, text);
      return true;
    });
  }
});

test('name lists report every bad name', () => {
  assert.deepEqual(parseNames('n1,n2,n3'), ['n1', 'n2', 'n3']);
  assert.throws(() => parseNames('n1,b!,,n4'), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /'b!': '!' is not allowed/);
    assert.match(err.message, /'': it is empty/);
    assert.doesNotMatch(err.message, /'n1':|'n4':/, 'good names are not reported');
    return true;
  });
});

test('counts are whole numbers of at least 1', () => {
  assert.equal(parseCount('3'), 3);
  for (const text of ['0', '-1', '2.5', 'three', '', '1e3']) {
    assert.throws(() => parseCount(text, 'count'), UsageError, text);
  }
});
