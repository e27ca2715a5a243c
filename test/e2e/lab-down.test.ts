// `fcm lab down` right after `fcm lab kill`: the killed agent's lease guard
// outlives it (waiting for the agent's next life to take it over), and
// `lab down` must stop that guard too, leaving no lab process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fcm, fcmJson, labTestEnv, processesMentioning } from './helpers.js';

test('lab up goes where $FCM_LAB says; lab down after lab kill stops the killed node\'s guard too', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'fcm-e2e-labdown-'));
  const dir = join(tmp, 'lab');
  const env = labTestEnv(tmp, dir);
  try {
    // No --dir: $FCM_LAB names the lab the other commands use, so lab up puts it there.
    const up = fcmJson<{ dir: string }>(env, ['lab', 'up', '--nodes', '3'], 90_000);
    assert.equal(up.dir, dir);
    assert.equal(fcm(env, ['lab', 'kill', 'node2']).status, 0);
    const guardDir = join(dir, 'node2', 'guard');
    assert.ok(processesMentioning(guardDir).length > 0, 'the killed agent\'s guard outlives it');
    const down = fcmJson<{ stopped: { name: string; outcome: string }[] }>(env, ['lab', 'down', '--keep']);
    assert.ok(down.stopped.some((s) => s.name === 'node2 guard' && s.outcome !== 'not-running'), JSON.stringify(down.stopped));
    assert.deepEqual(processesMentioning(dir), [], 'no lab process is left');
  } finally {
    for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
    await rm(tmp, { recursive: true, force: true });
  }
});
