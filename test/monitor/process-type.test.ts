// The process type called directly, with real processes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcessResourceType } from '../../src/agent/types/process-type.js';
import { isSameProcess, processIdentity } from '../../src/os/process-identity.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import { context, killIfSame, recordedProcess, tempDir, waitFor } from './helpers.js';

test('a process resource goes online, passes its checks, writes its output to a file, and goes offline', async () => {
  const dir = await tempDir();
  const type = new ProcessResourceType();
  const { ctx } = context({ params: { command: 'sh -c "echo hello from $GREETING; exec sleep 300"', env: 'GREETING=fcm' }, outputDir: dir });
  let identity: ProcessIdentity | undefined;
  try {
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    assert.ok(isSameProcess(identity));
    assert.deepEqual(await type.quickCheck(ctx), { ok: true });
    assert.deepEqual(await type.thoroughCheck(ctx), { ok: true });
    // Online again is fine and starts nothing new.
    assert.deepEqual(await type.online(ctx), { ok: true });
    assert.equal((await recordedProcess(dir)).pid, identity.pid);
    await waitFor('the output in output.log', async () => (await readFile(join(dir, 'output.log'), 'utf8')).includes('hello from fcm'));
    assert.deepEqual(await type.offline(ctx), { ok: true });
    assert.equal(isSameProcess(identity), false);
    assert.equal(existsSync(join(dir, 'process.json')), false);
    const check = await type.quickCheck(ctx);
    assert.equal(check.ok === false && check.code, 'E_NOT_RUNNING');
  } finally {
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('the exit of a process resource is reported through reportFailure at once', async () => {
  const dir = await tempDir();
  const type = new ProcessResourceType();
  const { ctx, failures } = context({ params: { command: 'sleep 300' }, outputDir: dir });
  let identity: ProcessIdentity | undefined;
  try {
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    process.kill(identity.pid, 'SIGKILL');
    await waitFor('the failure report', () => failures.length > 0, 5000);
    assert.equal(failures[0]?.code, 'E_EXITED');
    assert.match(failures[0]?.message ?? '', /SIGKILL/);
    // A stop that is asked for is not a failure.
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    assert.deepEqual(await type.offline(ctx), { ok: true });
    assert.equal(failures.length, 1);
  } finally {
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process that ignores SIGTERM is killed with SIGKILL after stopTimeout', async () => {
  const dir = await tempDir();
  const type = new ProcessResourceType();
  // An ignored signal stays ignored across exec, so the sleeps ignore SIGTERM as well.
  const command = `sh -c 'trap "" TERM; echo trapped; while :; do sleep 1; done'`;
  const { ctx, logs } = context({ params: { command, stopTimeout: '300ms' }, outputDir: dir });
  let identity: ProcessIdentity | undefined;
  try {
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    await waitFor('the trap to be set', async () => (await readFile(join(dir, 'output.log'), 'utf8')).includes('trapped'));
    assert.deepEqual(await type.offline(ctx), { ok: true });
    assert.equal(isSameProcess(identity), false);
    assert.ok(logs.some((l) => l.level === 'warn' && /SIGKILL/.test(l.msg)), 'the escalation to SIGKILL is logged');
  } finally {
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a remembered pid that now names another process is never signalled', async () => {
  const dir = await tempDir();
  const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => bystander.once('spawn', resolve));
    const real = processIdentity(bystander.pid as number) as ProcessIdentity;
    // A stale record: the bystander's pid with another start time, as after pid reuse.
    await writeFile(join(dir, 'process.json'), JSON.stringify({ pid: real.pid, startTime: real.startTime - 1 }));
    const { ctx } = context({ params: { command: 'sleep 300' }, outputDir: dir });
    const fresh = new ProcessResourceType();
    const check = await fresh.quickCheck(ctx);
    assert.equal(check.ok === false && check.code, 'E_NOT_RUNNING');
    assert.deepEqual(await fresh.terminate(ctx), { ok: true });
    assert.ok(isSameProcess(real), 'the bystander is alive');
  } finally {
    bystander.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('a new type instance (a replacement monitor) stops the process from its pid file', async () => {
  const dir = await tempDir();
  const { ctx } = context({ params: { command: 'sleep 300' }, outputDir: dir });
  let identity: ProcessIdentity | undefined;
  try {
    assert.deepEqual(await new ProcessResourceType().online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    const replacement = new ProcessResourceType();
    assert.deepEqual(await replacement.quickCheck(ctx), { ok: true });
    assert.deepEqual(await replacement.terminate(ctx), { ok: true });
    assert.equal(isSameProcess(identity), false);
  } finally {
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a command that is not there fails online as a hard failure (another node may have it), and validation reports every problem', async () => {
  const dir = await tempDir();
  const type = new ProcessResourceType();
  try {
    const notExecutable = join(dir, 'not-executable');
    await writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    for (const command of ['/nonexistent/fcm-binary', 'fcm-no-such-command', notExecutable, '/tmp']) {
      const { ctx } = context({ params: { command }, outputDir: dir });
      const result = await type.online(ctx);
      assert.deepEqual(result.ok === false && [result.code, result.severity], ['E_NOT_INSTALLED', 'hard'], command);
    }
    assert.equal(existsSync(join(dir, 'process.json')), false);
    // A name is looked up in the PATH the resource's env gives; a relative path from cwd.
    const { ctx: fromEnvPath } = context({ params: { command: 'sleep 300', env: 'PATH=/nonexistent' }, outputDir: dir });
    assert.equal((await type.online(fromEnvPath)).ok, false);
    const { ctx: relative } = context({ params: { command: './sleep 300', cwd: '/bin' }, outputDir: dir });
    assert.deepEqual(await type.online(relative), { ok: true });
    await type.offline(relative);
    const problems = await type.validate({ command: 'unbalanced "quote', env: 'not-an-assignment', probe: 'ftp://x', probeLevel: 'deep', colour: 'red', cwd: 'relative' });
    assert.deepEqual(problems.map((p) => p.parameter).sort(), ['colour', 'command', 'cwd', 'env', 'probe', 'probeLevel']);
    assert.deepEqual((await type.validate({})).map((p) => p.code), ['E_MISSING_PARAMETER']);
    assert.deepEqual(await type.validate({ command: 'sleep 1', probe: 'tcp://127.0.0.1:80', stopTimeout: '5s' }), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process resource runs as the given user', { skip: process.getuid?.() !== 0 ? 'needs root to change user' : false }, async () => {
  const dir = await tempDir();
  const type = new ProcessResourceType();
  const { ctx } = context({ params: { command: 'sleep 300', user: 'nobody' }, outputDir: dir });
  let identity: ProcessIdentity | undefined;
  try {
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    const started = identity;
    // setpriv execs in place: wait until the pid runs as nobody.
    await waitFor('the uid change', () => /^Uid:\s+65534\b/m.test(readFileSync(`/proc/${started.pid}/status`, 'utf8')));
    assert.deepEqual(await type.offline(ctx), { ok: true });
  } finally {
    killIfSame(identity);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A writable cgroup2 mount, or null. */
function cgroup2Mount(): string | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1] ?? null;
}

test('a process resource starts inside the group\'s cgroup', { skip: cgroup2Mount() === null ? 'needs root and a cgroup2 mount' : false }, async () => {
  const mount = cgroup2Mount() as string;
  const cgroup = join(mount, `fcm-mon-test-${process.pid}`);
  const dir = await tempDir();
  const type = new ProcessResourceType();
  let identity: ProcessIdentity | undefined;
  await mkdir(cgroup);
  try {
    const { ctx } = context({ params: { command: 'sleep 300' }, outputDir: dir, containment: { kind: 'cgroup', dir: cgroup } });
    assert.deepEqual(await type.online(ctx), { ok: true });
    identity = await recordedProcess(dir);
    const { pid } = identity;
    // Once the wrapper has exec'd the command, the command is in the cgroup.
    await waitFor('the exec of sleep', () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
    assert.match(readFileSync(`/proc/${identity.pid}/cgroup`, 'utf8'), new RegExp(`^0::/fcm-mon-test-${process.pid}$`, 'm'));
    assert.deepEqual(await type.offline(ctx), { ok: true });
    // Inside the wrapper a missing command is refused before the wrapper runs, never briefly Online.
    const { ctx: missing } = context({ params: { command: '/nonexistent/fcm-binary' }, outputDir: dir, containment: { kind: 'cgroup', dir: cgroup } });
    const result = await type.online(missing);
    assert.equal(result.ok === false && result.code, 'E_NOT_INSTALLED');
    // A cgroup that cannot be entered runs nothing.
    const { ctx: bad } = context({ params: { command: 'sleep 300' }, outputDir: dir, containment: { kind: 'cgroup', dir: join(dir, 'not-a-cgroup') } });
    const refused = await type.online(bad);
    assert.equal(refused.ok, false);
  } finally {
    killIfSame(identity);
    // rmdir is refused (EBUSY) for a moment after the last process exits.
    await waitFor('the cgroup to be removed', () => rmdir(cgroup).then(() => true, () => false));
    await rm(dir, { recursive: true, force: true });
  }
});
