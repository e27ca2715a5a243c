// Runs many seeds and sums what they exercised.
import type { CheckerName } from './checkers/violation.js';
import { addStats, emptyStats } from './stats.js';
import type { RunStats } from './stats.js';
import { runSeed } from './world.js';
import type { BugName } from './world.js';

export interface SeedFailure {
  seed: number;
  checker: CheckerName;
  detail: string;
  /** The command that replays this seed with a readable trace. */
  replay: string;
}

export interface BatchResult {
  seeds: number;
  failures: SeedFailure[];
  stats: RunStats;
}

export interface BatchOptions {
  start: number;
  count: number;
  bug?: BugName;
  /** Resources on every seed (true), none (false), or as each seed picks (absent). */
  resources?: boolean;
  stopAtFirstFailure?: boolean;
}

export function replayCommand(seed: number, bug?: BugName, resources?: boolean): string {
  const mode = resources === true ? ' --resources' : resources === false ? ' --no-resources' : '';
  return `npm run sim -- --seed ${seed} --trace${mode}${bug !== undefined ? ` --bug ${bug}` : ''}`;
}

export function runSeeds(opts: BatchOptions): BatchResult {
  const stats = emptyStats();
  const failures: SeedFailure[] = [];
  let seeds = 0;
  for (let seed = opts.start; seed < opts.start + opts.count; seed++) {
    const r = runSeed({ seed, ...(opts.bug !== undefined ? { bug: opts.bug } : {}), ...(opts.resources !== undefined ? { resources: opts.resources } : {}) });
    seeds++;
    addStats(stats, r.stats);
    if (r.violation !== null) {
      failures.push({ seed, checker: r.violation.checker, detail: r.violation.detail, replay: replayCommand(seed, opts.bug, opts.resources) });
      if (opts.stopAtFirstFailure) break;
    }
  }
  return { seeds, failures, stats };
}
