// The command line: one JSON line of counts, and a non-zero exit with the
// replay command when a seed fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--seeds N --json prints one line of summed counts and exits 0', () => {
  const r = sim('--seeds', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(out.seeds, 3);
  assert.equal(out.failures, 0);
  for (const k of ['ticks', 'elections', 'crashes', 'tornTails', 'partitions', 'snapshotsInstalled', 'membershipChanges', 'clientOps', 'messagesDropped']) {
    assert.equal(typeof out[k], 'number', k);
  }
});

test('--resources runs the resource world on every seed; a lease bug is caught by the group checker', () => {
  const r = sim('--seeds', '2', '--json', '--resources');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  assert.equal(out.resourceRuns, 2);
  const none = JSON.parse(sim('--seeds', '2', '--json', '--no-resources').stdout.trim()) as Record<string, unknown>;
  assert.equal(none.resourceRuns, 0);
  const bug = sim('--seed', '11', '--bug', 'noSettlingAfterElection');
  assert.equal(bug.status, 1, bug.stdout);
  assert.match(bug.stdout, /FAILED group-exclusive/);
});

test('a failing seed exits 1 and prints its checker and replay command; --seed replays it', () => {
  const r = sim('--seeds', '5', '--bug', 'replyBeforeVoteDurable');
  assert.equal(r.status, 1);
  const m = /FAIL seed (\d+): ([a-z-]+):/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.match(r.stdout, new RegExp(`replay: npm run sim -- --seed ${m[1]} --trace --bug replyBeforeVoteDurable`));
  const replay = sim('--seed', m[1] ?? '', '--bug', 'replyBeforeVoteDurable');
  assert.equal(replay.status, 1);
  assert.match(replay.stdout, new RegExp(`FAILED ${m[2]}`));
});

test('usage errors exit 64', () => {
  assert.equal(sim('--seeds', 'x').status, 64);
  assert.equal(sim('--seed', '1', '--bug', 'nope').status, 64);
  assert.equal(sim().status, 64);
});
