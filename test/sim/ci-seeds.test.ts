// What CI runs of the simulator: a fixed list of seeds (1..1000, the same on
// every run, so a regression shows up as the same seed) plus 200 fresh
// seeds from a start drawn anew each run (so coverage grows run by run).
// A failure names the seed and the command that replays it. FCM_SIM_START
// pins the fresh start to replay a CI run's batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { runSeeds } from './batch.js';
import type { BatchResult } from './batch.js';

const FIXED_SEEDS = 1000;
const FRESH_SEEDS = 200;

function explain(batch: BatchResult): string {
  return batch.failures.map((f) => `seed ${f.seed} failed ${f.checker}: ${f.detail}\n  replay: ${f.replay}`).join('\n');
}

test(`fixed seeds 1..${FIXED_SEEDS} pass every checker`, (t) => {
  const batch = runSeeds({ start: 1, count: FIXED_SEEDS });
  t.diagnostic(`exercised: ${JSON.stringify(batch.stats)}`);
  assert.equal(batch.failures.length, 0, explain(batch));
});

test(`${FRESH_SEEDS} fresh seeds pass every checker`, (t) => {
  const start = process.env.FCM_SIM_START ? Number(process.env.FCM_SIM_START) : randomInt(1_000_000, 2 ** 31);
  t.diagnostic(`fresh seeds ${start}..${start + FRESH_SEEDS - 1} (replay the batch: FCM_SIM_START=${start})`);
  const batch = runSeeds({ start, count: FRESH_SEEDS });
  assert.equal(batch.failures.length, 0, explain(batch));
});
