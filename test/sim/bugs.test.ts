// Each planted bug is caught by a safety checker within seeds 1..300.
// The run stops at the first failing seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeeds } from './batch.js';
import { BUG_NAMES } from './world.js';

const SEEDS = 300;

for (const bug of BUG_NAMES) {
  test(`planted bug ${bug} is caught within ${SEEDS} seeds`, () => {
    const b = runSeeds({ start: 1, count: SEEDS, bug, stopAtFirstFailure: true });
    const f = b.failures[0];
    assert.ok(f !== undefined, `no seed in 1..${SEEDS} caught ${bug}`);
    assert.ok(f.checker !== 'liveness' && f.checker !== 'exception', `seed ${f.seed} failed ${f.checker}: ${f.detail}`);
    assert.match(f.replay, new RegExp(`--seed ${f.seed} --trace --bug ${bug}$`));
  });
}
