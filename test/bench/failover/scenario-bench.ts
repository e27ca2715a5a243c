// The failover scenarios as a benchmark: one lab of `nodes` nodes (fencing
// none, or `--fencing watchdog`, which stop-all needs), one observed group,
// every scenario × kind `trials` times (test/failover/trials.ts). Failover is timed from the fault to the new
// instance's connection to the outside observer; safety is the observer's
// verdict. The lab is taken down in `finally` (by PID if the CLI cannot).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimRng } from '../../sim/rng.js';
import { FailoverLab } from '../../failover/lab.js';
import { scenariosNamed } from '../../failover/scenarios.js';
import type { Kind } from '../../failover/scenarios.js';
import { observeGroup, runTrials } from '../../failover/trials.js';

export interface ScenarioBenchOptions {
  nodes: number;
  trials: number;
  /** Scenario names; all when absent or empty. */
  scenarios?: readonly string[];
  kinds?: readonly Kind[];
  /**
   * The lab's fencing: 'watchdog' starts it with `fcm lab up --fencing
   * watchdog` (emulated watchdogs; stop-all needs it), 'none' without.
   * Absent: watchdog when this CLI's `lab up` offers it. A watchdog asked
   * for but not offered gives a lab without, on which stop-all reports why
   * it was skipped.
   */
  fencing?: 'none' | 'watchdog';
  /** Seed of the trials' random choices (follower picked, delays); random when absent. */
  seed?: number;
  /** Progress lines; stderr by default. */
  log?: (line: string) => void;
}

export async function runScenarioBench(options: ScenarioBenchOptions): Promise<object> {
  const log = options.log ?? ((line: string) => process.stderr.write(`failover: ${line}\n`));
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const kinds = options.kinds ?? ['follower', 'leader'];
  const scenarios = scenariosNamed(options.scenarios ?? []);
  log(`seed ${seed}; ${options.nodes} nodes, ${options.trials} trials of ${scenarios.map((s) => s.name).join(', ')} × ${kinds.join(', ')}`);
  const root = await mkdtemp(join(tmpdir(), 'fcm-bench-failover-'));
  let lab: FailoverLab | undefined;
  // Interrupted (Ctrl-C, timeout): the lab's agents are detached, so take them down before going.
  const interrupted = (): void => {
    void (lab?.down() ?? Promise.resolve()).finally(() => rm(root, { recursive: true, force: true })).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const watchdog = options.fencing !== 'none' && (await FailoverLab.offersFencing());
    lab = await FailoverLab.up(root, { nodes: options.nodes, fencing: watchdog ? 'watchdog' : undefined });
    const observer = await observeGroup(lab, 'g');
    try {
      const report = await runTrials({ lab, observer, group: 'g', scenarios, kinds, trials: options.trials, rng: new SimRng(seed), log });
      const overall = observer.judge();
      return {
        seed,
        nodes: options.nodes,
        fencing: lab.fencing,
        leaseMs: lab.leaseMs,
        scenarios: report.summaries,
        dualActive: overall.reduce((n, v) => n + v.dualActive.length, 0),
        smallestGapMs: overall.reduce<number | null>((min, v) => (v.smallestGapMs === null ? min : Math.round(Math.min(min ?? Infinity, v.smallestGapMs))), null),
        instances: overall.reduce((n, v) => n + v.instances, 0),
      };
    } finally {
      await observer.close();
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await lab?.down();
    await rm(root, { recursive: true, force: true });
  }
}
