// fcm events against a real agent: the last N changes as one JSON document,
// and --follow printing each new change once, in order, as NDJSON, until
// SIGINT (exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fcm, fcmJson } from '../e2e/helpers.js';
import { join } from 'node:path';
import { CLI_MAIN, call, startAgent, stopAgent, tempDir, waitUntil } from './helpers.js';
import type { AgentProcess } from './helpers.js';

interface Event { index: number; type: string; summary: string; result: string }

/** `fcm events --follow --json --limit 1` running: what it printed so far, its exit code, and a signal by PID. */
function follow(env: NodeJS.ProcessEnv): { out: () => string; exited: Promise<number | null>; signal: (name: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [CLI_MAIN, 'events', '--follow', '--json', '--limit', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    out: () => out,
    exited,
    signal: (name) => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, name);
    },
  };
}

test('fcm events: the last changes, and --follow printing each new one once until SIGINT', { timeout: 60_000 }, async () => {
  const dir = await tempDir('fcm-agent-events-');
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(join(dir.path, 'n1'), 'n1');
    await call(agent.socket, 'cluster.create', { name: 'solo' });
    const env = { ...process.env, FCM_SOCKET: agent.socket, FCM_LAB: '' };
    for (let i = 0; i < 3; i++) await call(agent.socket, 'config.set', { values: { historyLimit: String(500 + i) } });

    const two = fcmJson<Event[]>(env, ['events', '--limit', '2']);
    assert.deepEqual(two.map((e) => e.summary), ['property.set historyLimit=501', 'property.set historyLimit=502']);
    const table = fcm(env, ['events', '--type', 'property', '--limit', '1']);
    assert.match(table.out, /CHANGE[\s\S]*historyLimit=502/);

    const follower = follow(env);
    try {
      await waitUntil('the newest past event', () => follower.out().includes('historyLimit=502'));
      for (let i = 3; i < 6; i++) await call(agent.socket, 'config.set', { values: { historyLimit: String(500 + i) } });
      await waitUntil('the new events', () => follower.out().includes('historyLimit=505'));
    } finally {
      follower.signal('SIGINT');
    }
    assert.equal(await follower.exited, 0);
    const lines = follower.out().trimEnd().split('\n').map((line) => JSON.parse(line) as Event);
    assert.deepEqual(lines.map((e) => e.summary), [502, 503, 504, 505].map((n) => `property.set historyLimit=${n}`));
    assert.ok(lines.every((e, i) => i === 0 || e.index > (lines[i - 1] as Event).index), 'in order, each once');

    // The agent lost while following: the error is one more NDJSON line, and the exit code says why.
    const orphan = follow(env);
    try {
      await waitUntil('the follower to start', () => orphan.out().includes('historyLimit=505'));
      await stopAgent(agent, 'SIGKILL');
      assert.equal(await orphan.exited, 5, 'E_UNAVAILABLE: the agent is gone');
    } finally {
      orphan.signal('SIGKILL');
    }
    const orphanLines = orphan.out().trimEnd().split('\n');
    assert.equal(orphanLines.length, 2, orphan.out());
    assert.equal((JSON.parse(orphanLines[1] as string) as { error: { code: string } }).error.code, 'E_UNAVAILABLE');
  } finally {
    if (agent) await stopAgent(agent, 'SIGKILL');
    await dir.remove();
  }
});
