import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderJson, renderKeyValues, renderTable } from '../../src/cli/render.js';

test('tables: borderless, columns aligned, no trailing spaces, missing values shown as -', () => {
  const text = renderTable(['NAME', 'STATE', 'OWNER'], [
    ['web', 'online', 'node1'],
    ['database-main', 'failed', null],
    ['mail', 'offline', ''],
  ]);
  assert.equal(text, [
    'NAME           STATE    OWNER',
    'web            online   node1',
    'database-main  failed   -',
    'mail           offline  -',
    '',
  ].join('\n'));
});

test('tables with no rows print the header only', () => {
  assert.equal(renderTable(['NAME', 'STATE'], []), 'NAME  STATE\n');
});

test('key/value blocks align the values', () => {
  assert.equal(renderKeyValues([['name', 'web'], ['state', 'online'], ['owner', undefined], ['failovers', 2]]), [
    'name:      web',
    'state:     online',
    'owner:     -',
    'failovers: 2',
    '',
  ].join('\n'));
});

test('JSON: one document, 2-space indent, newline-terminated', () => {
  assert.equal(renderJson({ groups: [{ name: 'web' }] }), '{\n  "groups": [\n    {\n      "name": "web"\n    }\n  ]\n}\n');
  assert.equal(renderJson(undefined), 'null\n');
});
