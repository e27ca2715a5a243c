import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import { spinnerWanted, withSpinner } from '../../src/cli/spinner.js';
import { Capture } from './capture.js';

test('a spinner only for a person at a terminal', () => {
  const cases: Array<[boolean, boolean, boolean, boolean]> = [
    // stderrIsTTY, json, quiet → wanted
    [true, false, false, true],
    [false, false, false, false],
    [true, true, false, false],
    [true, false, true, false],
  ];
  for (const [stderrIsTTY, json, quiet, wanted] of cases) {
    assert.equal(spinnerWanted({ stderrIsTTY, json, quiet }), wanted, JSON.stringify({ stderrIsTTY, json, quiet }));
  }
});

test('disabled: the work runs and nothing is written', async () => {
  const stream = new Capture({ decodeStrings: false });
  assert.equal(await withSpinner('waiting', async () => 7, { enabled: false, stream }), 7);
  await assert.rejects(withSpinner('waiting', async () => { throw new Error('lost'); }, { enabled: false, stream }), /lost/);
  assert.equal(stream.text, '');
});

test('enabled: the label is shown and ends marked as done or failed', async () => {
  const ok = new Capture({ decodeStrings: false });
  assert.equal(await withSpinner('moving web', async () => 'moved', { enabled: true, stream: ok }), 'moved');
  assert.match(stripVTControlCharacters(ok.text), /✔ moving web\n$/);
  const failed = new Capture({ decodeStrings: false });
  await assert.rejects(withSpinner('moving web', async () => { throw new Error('lost'); }, { enabled: true, stream: failed }), /lost/);
  assert.match(stripVTControlCharacters(failed.text), /✖ moving web\n$/);
});
