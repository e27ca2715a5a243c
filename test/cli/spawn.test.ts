// The built CLI as a user runs it: a separate node process. Paths are
// resolved from this file, so the test works from any dist-* folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/fcm', import.meta.url));

/** Bounded, so a hung CLI fails the test instead of hanging it. */
const TIMEOUT_MS = 10_000;

function fcm(...argv: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...argv], { encoding: 'utf8', timeout: TIMEOUT_MS });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

test('an unknown noun with --json: exit 2 and a JSON error on stdout', () => {
  const { status, out, err } = fcm('--json', 'nosuchnoun');
  assert.equal(status, 2);
  assert.equal(err, '');
  assert.equal((JSON.parse(out) as { error: { code: string } }).error.code, 'E_USAGE');
});

test('--help: exit 0, help on stdout', () => {
  const { status, out, err } = fcm('--help');
  assert.equal(status, 0);
  assert.equal(err, '');
  assert.match(out, /^Usage: fcm /);
});

test('a command not built yet: exit 1, E_NOT_IMPLEMENTED', () => {
  const json = fcm('quorum', 'show', '--json');
  assert.equal(json.status, 1);
  assert.equal((JSON.parse(json.out) as { error: { code: string } }).error.code, 'E_NOT_IMPLEMENTED');
  const human = fcm('quorum', 'show');
  assert.equal(human.status, 1);
  assert.equal(human.out, '');
  assert.match(human.err, /^error: quorum show is not built in this version of fcm/);
});

test('a reader that goes away early (fcm ... | head) ends the CLI quietly', async () => {
  const child = spawn(process.execPath, [MAIN, 'completion', 'bash'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Close our end before the child writes, so its first write fails with EPIPE.
  child.stdout.destroy();
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const timer = setTimeout(() => child.kill(), TIMEOUT_MS);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  assert.equal(err, '');
  assert.equal(status, 0);
});

test('bin/fcm is executable and runs dist/ next to its real path, through a symlink', () => {
  assert.ok((statSync(BIN).mode & 0o111) !== 0, 'bin/fcm has the executable bit');
  const dir = mkdtempSync(join(tmpdir(), 'fcm-bin-'));
  try {
    // A package laid out like the repository: bin/fcm and dist/.
    mkdirSync(join(dir, 'pkg', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'pkg', 'package.json'), '{"type":"module"}\n');
    copyFileSync(BIN, join(dir, 'pkg', 'bin', 'fcm'));
    symlinkSync(join(dir, 'pkg', 'bin', 'fcm'), join(dir, 'fcm'));
    const run = () => spawnSync(process.execPath, [join(dir, 'fcm'), '--json', 'nosuchnoun'], { encoding: 'utf8', timeout: TIMEOUT_MS });

    const unbuilt = run();
    assert.equal(unbuilt.status, 1);
    assert.match(unbuilt.stderr, /hint: run 'npm run build'/);

    symlinkSync(DIST, join(dir, 'pkg', 'dist'));
    const built = run();
    assert.equal(built.status, 2);
    assert.equal((JSON.parse(built.stdout) as { error: { code: string } }).error.code, 'E_USAGE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
