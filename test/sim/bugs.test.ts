// Each planted bug is caught by a safety checker within seeds 1..300: the
// consensus bugs in any run, the lease bugs in runs with the resource world
// (a lease bug brings it on every seed). The run stops at the first seed a
// safety checker fails; a lease bug may also break liveness first, which
// does not count as caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeeds } from './batch.js';
import type { SeedFailure } from './batch.js';
import { BUG_NAMES } from './world.js';
import type { BugName } from './world.js';

const SEEDS = 300;

function firstSafetyFailure(bug: BugName): SeedFailure | undefined {
  for (let start = 1; start <= SEEDS;) {
    const b = runSeeds({ start, count: SEEDS - start + 1, bug, stopAtFirstFailure: true });
    const f = b.failures[0];
    if (f === undefined) return undefined;
    if (f.checker !== 'liveness') return f;
    start = f.seed + 1;
  }
  return undefined;
}

for (const bug of BUG_NAMES) {
  test(`planted bug ${bug} is caught within ${SEEDS} seeds`, () => {
    const f = firstSafetyFailure(bug);
    assert.ok(f !== undefined, `no seed in 1..${SEEDS} caught ${bug}`);
    assert.ok(f.checker !== 'exception', `seed ${f.seed} failed ${f.checker}: ${f.detail}`);
    assert.match(f.replay, new RegExp(`--seed ${f.seed} --trace --bug ${bug}$`));
  });
}
