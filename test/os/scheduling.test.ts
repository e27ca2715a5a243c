// setProcessNice in a child process (the test runner's own priority stays
// as it is): every thread and the autogroup take the value; without the
// right to raise priority, each kind of failure is named once. A process
// in the kernel's root autogroup (the first session, as under a
// container's init) has no autogroup of its own to set: its
// /proc/self/autogroup reads empty, and that is no problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../src/os/scheduling.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

/**
 * Runs setProcessNice(nice) in a fresh node (optionally as `nobody`), then
 * reports every thread's nice and the autogroup line. As `nobody` it loads
 * a copy of the module from a directory anyone may read: the checkout may
 * sit in one only root can enter (mktemp -d makes them 0700).
 */
function inChild(nice: number, autogroup: boolean, asNobody = false): { problems: string[]; threads: number[]; autogroup: string | null } {
  const dir = asNobody ? mkdtempSync(join(tmpdir(), 'fcm-nice-')) : null;
  try {
    if (dir !== null) {
      chmodSync(dir, 0o755);
      copyFileSync(MODULE, join(dir, 'scheduling.js'));
    }
    return runInChild(dir === null ? MODULE : join(dir, 'scheduling.js'), nice, autogroup, dir);
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

/** `inChild` with the module at `module`; `nobodyDir` set: as `nobody`, in that directory. */
function runInChild(module: string, nice: number, autogroup: boolean, nobodyDir: string | null): { problems: string[]; threads: number[]; autogroup: string | null } {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    const { setProcessNice } = await import(${JSON.stringify(module)});
    const problems = setProcessNice(${nice}, { autogroup: ${autogroup} });
    const threads = readdirSync('/proc/self/task').map((t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
    let autogroup = null;
    try { autogroup = readFileSync('/proc/self/autogroup', 'utf8').trim(); } catch {}
    process.stdout.write(JSON.stringify({ problems, threads, autogroup }));
  `;
  const argv = [process.execPath, '--input-type=module', '-e', script];
  const run = nobodyDir !== null
    ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv], { encoding: 'utf8', cwd: nobodyDir })
    : spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { problems: string[]; threads: number[]; autogroup: string | null };
}

test('every thread of the process takes the nice value, and so does its autogroup', { skip: isRoot ? false : 'raising priority needs root' }, () => {
  const raised = inChild(-7, true);
  assert.deepEqual(raised.problems, []);
  assert.ok(raised.threads.length > 1, 'node runs several threads');
  assert.ok(raised.threads.every((n) => n === -7), JSON.stringify(raised.threads));
  // The child shares the test runner's session, so its autogroup line tells which case this machine has.
  if (raised.autogroup === null) assert.equal(existsSync('/proc/self/autogroup'), false);
  else if (raised.autogroup === '') assert.equal(readFileSync('/proc/self/autogroup', 'utf8'), '', 'the root group');
  else assert.match(raised.autogroup, /nice -7$/);
  // Without `autogroup`, only the threads change.
  const threadsOnly = inChild(-3, false);
  assert.ok(threadsOnly.threads.every((n) => n === -3));
  assert.doesNotMatch(threadsOnly.autogroup ?? '', /nice -3$/);
});

test('without the right to raise priority, the failures are named once per kind and the process is unchanged', { skip: isRoot ? false : 'needs root to run the child as nobody' }, () => {
  const refused = inChild(-5, true, true);
  assert.ok(refused.problems.some((p) => /^threads: .*EACCES/.test(p)), JSON.stringify(refused.problems));
  assert.ok(refused.problems.length <= 2, JSON.stringify(refused.problems));
  assert.ok(refused.threads.every((n) => n === 0));
  // Lowering one's own priority needs no right.
  const lowered = inChild(5, false, true);
  assert.deepEqual(lowered.problems, []);
  assert.ok(lowered.threads.every((n) => n === 5));
});
