// The lab's emulated watchdog on a real FIFO: opening arms it, writes feed
// it, 'V' then close disarms it, a close without 'V' leaves it armed, and an
// armed device unfed for T_wd fires. Time is passed in (`poll(now)`), so
// nothing here depends on how fast the machine is. Also: the guard's own
// feeder against the device, the emulator's reset callback, and the power
// cut's search for a node's processes by `--state-dir`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs } from '../../src/agent/guard/clock.js';
import { WatchdogFeeder } from '../../src/agent/guard/watchdog.js';
import { isSameProcess, processIdentity } from '../../src/os/process-identity.js';
import { WatchdogDevice, WatchdogEmulator } from '../../src/lab/watchdog.js';
import type { WatchdogNode } from '../../src/lab/watchdog.js';
import { nodeProcesses, powerCut } from '../../src/lab/watchdog-reset.js';

const T_WD = 500;

async function withFifo<T>(run: (fifo: string, dir: string) => Promise<T> | T): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-watchdog-'));
  const fifo = join(dir, 'node1.fifo');
  execFileSync('mkfifo', ['-m', '0600', fifo]);
  try {
    return await run(fifo, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A guard's side: write-only, non-blocking (as WatchdogFeeder opens it). */
const openWriter = (fifo: string): number => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);

test('opening arms, writes feed, an armed device unfed for T_wd fires once', () => withFifo((fifo) => {
  const device = new WatchdogDevice(fifo, T_WD);
  device.open();
  try {
    assert.deepEqual(device.poll(0), [], 'no writer: idle');
    assert.equal(device.state, 'idle');
    const writer = openWriter(fifo);
    assert.deepEqual(device.poll(10), ['armed'], 'opening arms');
    writeSync(writer, '\0');
    assert.deepEqual(device.poll(400), []);
    assert.deepEqual(device.poll(899), [], 'fed at 400: not yet');
    assert.deepEqual(device.poll(900), ['expired'], 'T_wd after the last feed');
    assert.equal(device.state, 'reset');
    assert.deepEqual(device.poll(5000), [], 'fires once');
    closeSync(writer);
  } finally {
    device.close();
  }
}));

test('V then close disarms; close without V stays armed and fires', () => withFifo((fifo) => {
  const device = new WatchdogDevice(fifo, T_WD);
  device.open();
  try {
    let writer = openWriter(fifo);
    writeSync(writer, '\0');
    writeSync(writer, 'V');
    closeSync(writer);
    assert.deepEqual(device.poll(0), ['armed', 'disarmed'], 'magic close');
    assert.deepEqual(device.poll(10_000), [], 'a disarmed device never fires');

    writer = openWriter(fifo);
    assert.deepEqual(device.poll(20_000), ['armed'], 'a new open arms again');
    writeSync(writer, 'V');
    writeSync(writer, '\0');
    closeSync(writer);
    assert.deepEqual(device.poll(20_100), ['closed-armed'], 'V not last: the close does not disarm');
    assert.deepEqual(device.poll(20_599), []);
    assert.deepEqual(device.poll(20_600), ['expired']);
  } finally {
    device.close();
  }
}));

test('a guard restart is no reset: a new writer within T_wd keeps it fed', () => withFifo((fifo) => {
  const device = new WatchdogDevice(fifo, T_WD);
  device.open();
  try {
    const old = openWriter(fifo);
    writeSync(old, '\0');
    assert.deepEqual(device.poll(0), ['armed']);
    closeSync(old); // killed: no 'V'
    assert.deepEqual(device.poll(100), ['closed-armed']);
    const next = openWriter(fifo);
    assert.deepEqual(device.poll(300), [], 'opened again: still armed, fed by the open');
    writeSync(next, '\0');
    assert.deepEqual(device.poll(700), []);
    assert.deepEqual(device.poll(1199), [], 'fed at 700');
    assert.equal(device.state, 'armed');
    closeSync(next);
  } finally {
    device.close();
  }
}));

test('after a reset only a new writer re-arms: the frozen one waking up does not', () => withFifo((fifo) => {
  const device = new WatchdogDevice(fifo, T_WD);
  device.open();
  try {
    const frozen = openWriter(fifo);
    assert.deepEqual(device.poll(0), ['armed']);
    assert.deepEqual(device.poll(500), ['expired']);
    writeSync(frozen, '\0');
    assert.deepEqual(device.poll(510), [], 'the reset writer feeds: ignored');
    assert.equal(device.state, 'reset');
    closeSync(frozen);
    assert.deepEqual(device.poll(520), [], 'killed by the reset');
    const restarted = openWriter(fifo);
    assert.deepEqual(device.poll(5000), ['armed'], 'lab start: the new guard arms it');
    closeSync(restarted);
  } finally {
    device.close();
  }
}));

test('the guard\'s feeder opens the device without blocking, feeds it and disarms it; without a reader it fails at once', () => withFifo(async (fifo) => {
  const state = { leaseEnd: -Infinity, groupsRunning: false };
  assert.throws(() => new WatchdogFeeder(fifo, T_WD, async () => state, monotonicMs).start(), /ENXIO/, 'no emulator: E_WATCHDOG at once, no hang');
  const device = new WatchdogDevice(fifo, T_WD);
  device.open();
  const feeder = new WatchdogFeeder(fifo, T_WD, async () => state, monotonicMs, 5);
  try {
    feeder.start();
    for (let i = 0; i < 500 && feeder.fed < 3; i++) await sleep(10);
    assert.ok(feeder.fed >= 3, 'fed');
    assert.deepEqual(device.poll(0), ['armed']);
    feeder.stop(true);
    assert.deepEqual(device.poll(1), ['disarmed']);
  } finally {
    feeder.stop(false);
    device.close();
  }
}));

test('the emulator resets a node whose watchdog is not fed, once, and counts it', () => withFifo(async (fifo) => {
  const node: WatchdogNode = { id: 'n1', name: 'node1', device: fifo, stateDir: '/nonexistent' };
  const resets: string[] = [];
  const emulator = new WatchdogEmulator({
    nodes: [node], timeoutMs: 50, resetsBefore: { n1: 2 }, pollMs: 5, log: () => undefined, onChange: () => undefined,
    reset: async (n) => {
      resets.push(n.id);
      return 'done';
    },
  });
  emulator.start();
  const writer = openWriter(fifo);
  try {
    for (let i = 0; i < 500 && resets.length === 0; i++) await sleep(10);
    assert.deepEqual(resets, ['n1']);
    await sleep(200);
    assert.deepEqual(resets, ['n1'], 'one reset per firing');
    assert.deepEqual(emulator.status().map((s) => [s.state, s.resets]), [['reset', 3]], 'counted on top of an earlier life\'s');
  } finally {
    closeSync(writer);
    emulator.close();
  }
}));

test('a power cut kills every process started with the node\'s --state-dir, and their children', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-watchdog-node-'));
  // Stand-ins for the agent (with a child, as the monitor) and the guard; `; :` keeps sh from exec'ing sleep.
  const agent = spawn('/bin/sh', ['-c', 'sleep 60 & sleep 60; :', 'agent', '--state-dir', dir], { stdio: 'ignore', detached: true });
  const guard = spawn('/bin/sh', ['-c', 'sleep 60; :', 'guard', '--state-dir', join(dir, 'guard')], { stdio: 'ignore', detached: true });
  const other = spawn('/bin/sh', ['-c', 'sleep 60; :', 'other', '--state-dir', `${dir}x`], { stdio: 'ignore', detached: true });
  try {
    const ids = [agent.pid, guard.pid, other.pid].map((pid) => processIdentity(pid ?? -1));
    let found: number[] = [];
    for (let i = 0; i < 200 && found.length < 5; i++) {
      found = (await nodeProcesses([dir, join(dir, 'guard')])).map((p) => p.pid);
      await sleep(10);
    }
    assert.equal(found.length, 5, 'agent, its two sleeps, guard, its sleep');
    assert.ok(!found.includes(other.pid ?? -1), 'another node\'s process is not this node\'s');
    const report = await powerCut(dir);
    assert.deepEqual(report.errors, []);
    assert.deepEqual([...report.killed].sort(), [...found].sort());
    assert.deepEqual(ids.map((id) => id !== undefined && isSameProcess(id)), [false, false, true]);
  } finally {
    // Each stand-in leads its own process group: its sleeps go with it.
    for (const child of [agent, guard, other]) {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // Gone already: the power cut killed it.
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
});
