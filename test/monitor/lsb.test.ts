// The lsb type with a small init script written here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LsbResourceType } from '../../src/agent/types/lsb-type.js';
import type { OperationResult } from '../../src/agent/types/resource-type.js';
import { context, tempDir } from './helpers.js';

function outcome(result: OperationResult): string {
  return result.ok ? 'ok' : `${result.code}/${result.severity}`;
}

/** An init script keeping its state in a file; STATUS_OVERRIDE / START_STATUS files force exit statuses. */
async function initScript(dir: string): Promise<string> {
  const script = join(dir, 'fcm-test-service');
  await writeFile(script, `#!/bin/sh
STATE=${dir}/running
case "$1" in
  start)
    [ -f ${dir}/start-status ] && exit "$(cat ${dir}/start-status)"
    echo "starting service"; touch "$STATE"; exit 0 ;;
  stop) rm -f "$STATE"; exit 0 ;;
  status)
    [ -f ${dir}/status-override ] && exit "$(cat ${dir}/status-override)"
    [ -f "$STATE" ] && exit 0
    exit 3 ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
`);
  await chmod(script, 0o755);
  return script;
}

test('an LSB script is started, checked with status, and stopped', async () => {
  const dir = await tempDir();
  try {
    const type = new LsbResourceType(await initScript(dir));
    const { ctx } = context({ params: {}, outputDir: join(dir) });
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_LSB_NOT_RUNNING/soft');
    assert.equal(outcome(await type.online(ctx)), 'ok');
    assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
    assert.equal(outcome(await type.thoroughCheck(ctx)), 'ok');
    assert.match(await readFile(join(dir, 'output.log'), 'utf8'), /lsb start\nstarting service/);
    await writeFile(join(dir, 'status-override'), '1');
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_LSB_STATUS_FAILED/soft');
    await rm(join(dir, 'status-override'));
    assert.equal(outcome(await type.offline(ctx)), 'ok');
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_LSB_NOT_RUNNING/soft');
    await writeFile(join(dir, 'start-status'), '5');
    assert.equal(outcome(await type.online(ctx)), 'E_LSB_NOT_INSTALLED/hard');
    assert.deepEqual((await type.validate({ anything: 'x' })).map((p) => p.code), ['E_UNKNOWN_PARAMETER']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing init script is a hard failure', async () => {
  const dir = await tempDir();
  try {
    const type = new LsbResourceType(join(dir, 'no-such-script'));
    const { ctx } = context({ params: {}, outputDir: dir });
    assert.equal(outcome(await type.online(ctx)), 'E_NOT_STARTED/hard');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
