// The example plug-in (src/agent/types/examples/file-flag.ts) run the way
// the monitor runs plug-ins: in a worker thread, through PluginResourceType.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PluginResourceType } from '../../src/agent/types/plugin-type.js';
import type { OperationResult } from '../../src/agent/types/resource-type.js';
import { context, tempDir } from './helpers.js';

const FILE_FLAG = new URL('../../src/agent/types/examples/file-flag.js', import.meta.url).pathname;

function outcome(result: OperationResult): string {
  return result.ok ? 'ok' : result.code;
}

test('the file-flag plug-in describes and validates its parameters', async () => {
  const type = new PluginResourceType(FILE_FLAG);
  const description = await type.describe();
  assert.deepEqual(description.parameters.map((p) => [p.name, p.required]), [['path', true], ['content', false]]);
  const problems = await type.validate({ path: 'relative', colour: 'red' });
  assert.deepEqual(problems.map((p) => [p.code, p.parameter]), [['E_INVALID_VALUE', 'path'], ['E_UNKNOWN_PARAMETER', 'colour']]);
  assert.deepEqual((await type.validate({})).map((p) => p.code), ['E_MISSING_PARAMETER']);
});

test('the file-flag plug-in raises, checks and lowers its flag, logging through the monitor', async () => {
  const dir = await tempDir();
  const type = new PluginResourceType(FILE_FLAG);
  const flag = join(dir, 'flag');
  const { ctx, logs } = context({ params: { path: flag, content: 'up\n' }, outputDir: dir });
  try {
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_FLAG_MISSING');
    assert.equal(outcome(await type.online(ctx)), 'ok');
    assert.equal(await readFile(flag, 'utf8'), 'up\n');
    assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
    assert.equal(outcome(await type.thoroughCheck(ctx)), 'ok');
    assert.deepEqual(logs.map((l) => [l.level, l.msg]), [['info', 'flag raised']]);
    await writeFile(flag, 'tampered\n');
    assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
    assert.equal(outcome(await type.thoroughCheck(ctx)), 'E_FLAG_CHANGED');
    assert.equal(outcome(await type.offline(ctx)), 'ok');
    assert.equal(existsSync(flag), false);
  } finally {
    await type.terminate(ctx);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a plug-in that throws or answers nonsense fails softly with E_PLUGIN_ERROR', async () => {
  const dir = await tempDir();
  const module = join(dir, 'broken.mjs');
  await writeFile(module, `
const ok = async () => ({ ok: true });
export default {
  describe: async () => ({ summary: 'broken', parameters: [] }), validate: async () => [],
  online: async () => { throw new Error('cannot start'); },
  offline: ok, terminate: ok,
  quickCheck: async () => 'fine',
  thoroughCheck: async () => ({ ok: false, code: 'E_MINE', message: 'mine', severity: 'fatal' }),
};
`);
  const type = new PluginResourceType(module);
  const { ctx } = context({ params: {}, outputDir: dir });
  try {
    const online = await type.online(ctx);
    assert.equal(outcome(online), 'E_PLUGIN_ERROR');
    assert.match(online.ok ? '' : online.message, /cannot start/);
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_PLUGIN_ERROR');
    assert.deepEqual(await type.thoroughCheck(ctx), { ok: false, code: 'E_MINE', message: 'mine', severity: 'fatal' });
    // A module that does not implement the interface fails every call.
    const empty = join(dir, 'empty.mjs');
    await writeFile(empty, 'export default {};\n');
    const result = await new PluginResourceType(empty).online(ctx);
    assert.equal(outcome(result), 'E_PLUGIN_ERROR');
    assert.match(result.ok ? '' : result.message, /missing describe/);
  } finally {
    await type.terminate(ctx);
    await rm(dir, { recursive: true, force: true });
  }
});
