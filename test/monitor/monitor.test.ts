// The resource monitor as a real child process, driven through MonitorClient.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MonitorClient } from '../../src/agent/monitor/monitor-client.js';
import type { MonitorClientOptions } from '../../src/agent/monitor/monitor-client.js';
import { ResourceMonitors } from '../../src/agent/monitor/monitor-pool.js';
import type { HealthEvent } from '../../src/agent/monitor/protocol.js';
import { isSameProcess, processIdentity } from '../../src/os/process-identity.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import type { OperationResult } from '../../src/agent/types/resource-type.js';
import { killIfSame, PROCESS_TYPE, recordedProcess, spec, tempDir, waitFor } from './helpers.js';

const FILE_FLAG = new URL('../../src/agent/types/examples/file-flag.js', import.meta.url).pathname;

function monitorOptions(events: HealthEvent[], overrides: Partial<MonitorClientOptions> = {}): Omit<MonitorClientOptions, 'name'> {
  return {
    heartbeatMs: 100,
    // Generous: only the stuck-monitor test wants a monitor replaced, and the machine may be busy.
    stuckAfterMs: 3000,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onHealth: (event) => events.push(event),
    ...overrides,
  };
}

function code(result: OperationResult | undefined): string {
  return result === undefined ? 'none' : result.ok ? 'ok' : result.code;
}

test('the death of a process resource is reported at once, not at the next check', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', ...monitorOptions(events) });
  let identity: ProcessIdentity | undefined;
  try {
    await client.start();
    // Checks every 60 s: only the exit event can report the death within the wait below.
    const web = spec('web', PROCESS_TYPE, { command: 'sleep 300' }, dir);
    assert.equal(code(await client.operate('online', web)), 'ok');
    identity = await recordedProcess(web.outputDir);
    process.kill(identity.pid, 'SIGKILL');
    await waitFor('the health event', () => events.length > 0, 10_000);
    assert.deepEqual(events.map((e) => [e.resource, e.healthy, e.source, code(e.result)]), [['web', false, 'exit', 'E_EXITED']]);
  } finally {
    await client.close();
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed quick check calls a thorough one, and only transitions are reported', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', ...monitorOptions(events) });
  const flag = join(dir, 'raised');
  try {
    await client.start();
    // Quick checks every 50 ms; thorough ones only when a quick one fails.
    const resource = spec('flag', { name: 'flag', kind: 'plugin', source: FILE_FLAG }, { path: flag }, dir, { checkIntervals: { quick: 50, thorough: 60_000 } });
    assert.equal(code(await client.operate('online', resource)), 'ok');
    await rm(flag);
    await waitFor('the failure', () => events.length >= 1);
    // Quick checks go on failing meanwhile; none of them is reported again.
    await sleep(500);
    await writeFile(flag, 'online\n');
    await waitFor('the recovery', () => events.length >= 2);
    await sleep(300);
    assert.deepEqual(events.map((e) => [e.healthy, e.source, code(e.result)]), [[false, 'thoroughCheck', 'E_FLAG_MISSING'], [true, 'thoroughCheck', 'ok']]);
    assert.equal(code(await client.operate('offline', resource)), 'ok');
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an operation past its deadline is killed and fails with E_DEADLINE', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', ...monitorOptions(events) });
  const script = join(dir, 'hangs');
  const pidFile = join(dir, 'start.pid');
  await writeFile(script, `#!/bin/sh\ncase "$1" in\n  start) echo $$ > ${pidFile}; exec sleep 300 ;;\n  *) exit 0 ;;\nesac\n`);
  await chmod(script, 0o755);
  let hung: ProcessIdentity | undefined;
  try {
    await client.start();
    const resource = spec('hang', { name: 'hang', kind: 'lsb', source: script }, {}, dir);
    const result = await client.operate('online', resource, 500);
    assert.equal(code(result), 'E_DEADLINE');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    hung = processIdentity(pid);
    await waitFor('the hung start to be killed', () => processIdentity(pid) === undefined, 5000);
    // The resource's next operation is not held up by the hung one.
    assert.equal(code(await client.operate('offline', resource)), 'ok');
    assert.equal(client.replacements, 0);
  } finally {
    await client.close();
    killIfSame(hung);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a hung plug-in is stopped by terminating its worker, without stopping the monitor', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', ...monitorOptions(events) });
  const module = join(dir, 'hangs.mjs');
  const log = join(dir, 'calls.log');
  await writeFile(module, `
import { threadId } from 'node:worker_threads';
import { appendFileSync } from 'node:fs';
const ok = async () => ({ ok: true });
export default {
  describe: async () => ({ summary: 'hangs in its quick check', parameters: [] }),
  validate: async () => [],
  online: ok, offline: ok, terminate: ok,
  // A busy loop: only worker.terminate() ends it.
  async quickCheck(ctx) { appendFileSync(ctx.params.log, 'quick ' + threadId + '\\n'); for (;;) {} },
  async thoroughCheck(ctx) { appendFileSync(ctx.params.log, 'thorough ' + threadId + '\\n'); return { ok: true }; },
};
`);
  try {
    await client.start();
    const resource = spec('hangs', { name: 'hangs', kind: 'plugin', source: module }, { log }, dir);
    assert.equal(code(await client.operate('online', resource)), 'ok');
    assert.equal(code(await client.operate('quickCheck', resource, 300)), 'E_DEADLINE');
    assert.equal(code(await client.operate('thoroughCheck', resource)), 'ok');
    const threads = (await readFile(log, 'utf8')).trim().split('\n').map((line) => line.split(' '));
    assert.equal(threads.length, 2);
    assert.notEqual(threads[0]?.[1], threads[1]?.[1], 'the call after the hang ran in a fresh worker');
    assert.equal(client.replacements, 0, 'the monitor kept its heartbeat through the hang');
    assert.equal(code(await client.operate('offline', resource)), 'ok');
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stuck monitor is killed by pid and replaced, and its resources are reported failed', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', ...monitorOptions(events, { stuckAfterMs: 1000 }) });
  let identity: ProcessIdentity | undefined;
  let stuckPid: number | undefined;
  try {
    await client.start();
    const web = spec('web', PROCESS_TYPE, { command: 'sleep 300' }, dir);
    assert.equal(code(await client.operate('online', web)), 'ok');
    identity = await recordedProcess(web.outputDir);
    stuckPid = client.pid as number;
    const stuck = processIdentity(stuckPid) as ProcessIdentity;
    process.kill(stuckPid, 'SIGSTOP');
    const pending = client.operate('quickCheck', web);
    assert.equal(code(await pending), 'E_MONITOR_STUCK');
    await waitFor('the failure of web', () => events.length > 0);
    assert.deepEqual(events.map((e) => [e.resource, e.healthy, e.source, code(e.result)]), [['web', false, 'monitor', 'E_MONITOR_STUCK']]);
    await waitFor('the stuck monitor to die', () => !isSameProcess(stuck), 5000);
    await waitFor('a new monitor', () => client.pid !== undefined && client.pid !== stuckPid);
    assert.equal(client.replacements, 1);
    // The new monitor finds the resource's process from its pid file and stops it.
    await waitFor('the new monitor to answer', async () => code(await client.operate('quickCheck', web)) === 'ok');
    assert.equal(code(await client.operate('terminate', web)), 'ok');
    assert.equal(isSameProcess(identity), false);
  } finally {
    if (stuckPid !== undefined) {
      try {
        process.kill(stuckPid, 'SIGCONT');
      } catch {
        // Already gone, as it should be.
      }
    }
    await client.close();
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('the monitor terminates its resources and exits when the agent dies', async () => {
  const dir = await tempDir();
  const parentScript = join(dir, 'agent.mjs');
  const clientModule = new URL('../../src/agent/monitor/monitor-client.js', import.meta.url).href;
  const web = spec('web', PROCESS_TYPE, { command: 'sleep 300' }, dir);
  // A stand-in agent: starts a monitor, brings a resource online, prints pids, then waits to be killed.
  await writeFile(parentScript, `
import { MonitorClient } from ${JSON.stringify(clientModule)};
const client = new MonitorClient({ name: 'shared', log: { info() {}, warn() {}, error() {} }, onHealth() {} });
await client.start();
const result = await client.operate('online', JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify({ monitor: client.pid, result }) + '\\n');
setInterval(() => {}, 1000);
`);
  const agent = spawn(process.execPath, [parentScript, JSON.stringify(web)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let monitor: ProcessIdentity | undefined;
  let resource: ProcessIdentity | undefined;
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: agent.stdout }).once('line', resolve);
      agent.once('exit', () => reject(new Error('the stand-in agent exited early')));
    });
    const started = JSON.parse(line) as { monitor: number; result: OperationResult };
    assert.equal(code(started.result), 'ok');
    monitor = processIdentity(started.monitor);
    resource = await recordedProcess(web.outputDir);
    assert.ok(monitor !== undefined && isSameProcess(resource));
    agent.kill('SIGKILL');
    const watched = monitor;
    await waitFor('the monitor to exit', () => !isSameProcess(watched), 15_000);
    assert.equal(isSameProcess(resource), false, 'the resource was terminated with it');
  } finally {
    agent.kill('SIGKILL');
    if (monitor !== undefined && isSameProcess(monitor)) process.kill(monitor.pid, 'SIGKILL');
    killIfSame(resource);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a resource marked isolate runs in a monitor of its own, let go once it is offline', async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const monitors = new ResourceMonitors(monitorOptions(events));
  const shared = spec('a', PROCESS_TYPE, { command: 'sleep 300' }, dir);
  const isolated = spec('b', PROCESS_TYPE, { command: 'sleep 300' }, dir, { isolate: true });
  const identities: ProcessIdentity[] = [];
  try {
    assert.equal(code(await monitors.operate('online', shared)), 'ok');
    assert.equal(code(await monitors.operate('online', isolated)), 'ok');
    identities.push(await recordedProcess(shared.outputDir), await recordedProcess(isolated.outputDir));
    const pids = await monitors.pids();
    assert.deepEqual([...pids.keys()].sort(), ['isolated:b', 'shared']);
    assert.notEqual(pids.get('shared'), pids.get('isolated:b'));
    assert.equal(code(await monitors.operate('offline', isolated)), 'ok');
    assert.deepEqual([...(await monitors.pids()).keys()], ['shared']);
    assert.equal(code(await monitors.operate('offline', shared)), 'ok');
  } finally {
    await monitors.close();
    identities.forEach(killIfSame);
    await rm(dir, { recursive: true, force: true });
  }
});
