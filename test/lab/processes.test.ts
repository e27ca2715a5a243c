import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcess, processIdentity, waitUntilGone } from '../../src/os/process-identity.js';
import { signal, startDetached, stopProcess } from '../../src/lab/processes.js';
import type { ProcessRecord } from '../../src/lab/processes.js';
import { LabError } from '../../src/lab/lab-error.js';
import { eventually, withTempDir } from './helpers.js';

/** A node child running `script`, its output in DIR/NAME.log. */
async function startScript(dir: string, name: string, script: string): Promise<{ record: ProcessRecord; log: () => Promise<string> }> {
  const logFile = join(dir, `${name}.log`);
  const record = await startDetached({ command: process.execPath, args: ['-e', script], logFile });
  return { record, log: () => readFile(logFile, 'utf8').catch(() => '') };
}

const READY_AND_WAIT = "console.log('ready'); setInterval(() => {}, 1000);";

test('a detached process runs in its own session with output in its log file', async () => {
  await withTempDir(async (dir) => {
    const child = await startScript(dir, 'child', READY_AND_WAIT);
    try {
      await eventually('ready line', () => readFileSync(join(dir, 'child.log'), 'utf8').includes('ready'));
      assert.deepEqual(processIdentity(child.record.pid), child.record);
      assert.equal(isSameProcess(child.record), true);
      const stat = readFileSync(`/proc/${child.record.pid}/stat`, 'latin1');
      const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]); // field 6
      assert.equal(session, child.record.pid);
    } finally {
      assert.equal(await stopProcess(child.record), 'terminated');
    }
    assert.equal(isSameProcess(child.record), false);
    assert.equal(await stopProcess(child.record), 'already-gone');
  });
});

test('a record whose start time does not match is never signalled', async () => {
  await withTempDir(async (dir) => {
    const child = await startScript(dir, 'child', "process.on('SIGUSR1', () => console.log('USR1')); " + READY_AND_WAIT);
    try {
      await eventually('ready line', () => readFileSync(join(dir, 'child.log'), 'utf8').includes('ready'));
      const impostor = { pid: child.record.pid, startTime: child.record.startTime + 1 };
      assert.equal(isSameProcess(impostor), false);
      assert.equal(signal(impostor, 'SIGUSR1'), 'gone');
      assert.equal(await stopProcess(impostor, { graceMs: 100 }), 'already-gone');
      // A delivered SIGUSR1 (or SIGTERM) shows in the log within milliseconds; the real record proves that it would.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await child.log()).includes('USR1'), false);
      assert.equal(signal(child.record, 'SIGUSR1'), 'sent');
      await eventually('USR1 line', () => readFileSync(join(dir, 'child.log'), 'utf8').includes('USR1'));
      assert.equal(isSameProcess(child.record), true);
    } finally {
      await stopProcess(child.record);
    }
  });
});

test('stopProcess escalates to SIGKILL when SIGTERM is ignored', async () => {
  await withTempDir(async (dir) => {
    const child = await startScript(dir, 'stubborn', "process.on('SIGTERM', () => console.log('ignoring TERM')); " + READY_AND_WAIT);
    await eventually('ready line', () => readFileSync(join(dir, 'stubborn.log'), 'utf8').includes('ready'));
    assert.equal(await stopProcess(child.record, { graceMs: 300 }), 'killed');
    assert.equal(isSameProcess(child.record), false);
    assert.match(await child.log(), /ignoring TERM/);
  });
});

test('a process that exits at once is seen as gone; a missing command is E_SPAWN', async () => {
  await withTempDir(async (dir) => {
    const child = await startScript(dir, 'brief', '');
    assert.equal(await waitUntilGone(child.record, 5000), true);
    assert.equal(signal(child.record, 'SIGTERM'), 'gone');
    await assert.rejects(
      startDetached({ command: join(dir, 'no-such-program'), args: [], logFile: join(dir, 'x.log') }),
      (err: unknown) => err instanceof LabError && err.code === 'E_SPAWN',
    );
  });
});

test('start times parse for a program whose name contains ") " and spaces', async () => {
  await withTempDir(async (dir) => {
    // comm is the program's file name, so this one puts ") 1 2 (" inside field 2.
    const odd = join(dir, 'x) 1 2 (y');
    await copyFile('/bin/sleep', odd);
    await chmod(odd, 0o755);
    const before = await startDetached({ command: '/bin/sleep', args: ['30'], logFile: join(dir, 'a.log') });
    const weird = await startDetached({ command: odd, args: ['30'], logFile: join(dir, 'b.log') });
    const after = await startDetached({ command: '/bin/sleep', args: ['30'], logFile: join(dir, 'c.log') });
    try {
      assert.match(readFileSync(`/proc/${weird.pid}/stat`, 'latin1'), /\(x\) 1 2 \(y\)/);
      assert.ok(before.startTime <= weird.startTime && weird.startTime <= after.startTime, JSON.stringify({ before, weird, after }));
      assert.equal(isSameProcess(weird), true);
    } finally {
      for (const r of [before, weird, after]) await stopProcess(r);
    }
  });
});
