// `npm run bench -- failover [--trials N] [--nodes 3,5] [--seed S]`: failover
// on real labs at default settings, judged by an outside observer
// (test/failover), and the scale of a node's resources. Per lab size:
//   1. the scenarios on a lab with fencing = none (the default), every one
//      but stop-all, follower- and leader-owned, N trials each (default 50).
//      On labs above 3 nodes only the two the goals name (SIGKILL of
//      the owner's agent, a cut owner), so that a full run stays near an hour;
//   2. stop-all (SIGSTOP of every fcm process of the owner) on a lab with
//      fencing = watchdog: with fencing = none it breaks assumption A2 and is
//      unsafe by design (src/agent/guard/README.md);
//   3. scale: a process resource's restart, 1,000 resources in 100 groups
//      online and offline, the fcm processes' RSS, λ and K
//      (test/bench/failover/scale-bench.ts).
// Goals (issue 4): follower-owned failover p50 <= 1.5 s, leader-owned
// p50 <= 2.0 s, p99 <= 2.5 s, zero dual-active.
import { runScaleBench } from './failover/scale-bench.js';
import { runScenarioBench } from './failover/scenario-bench.js';
import type { ScenarioSummary } from '../failover/trials.js';

export interface FailoverBenchOptions {
  /** Trials per scenario and kind (default 50). */
  trials?: number;
  /** Lab sizes (default 3 and 5). */
  nodes?: number[];
  seed?: number;
}

const GOAL_P50_MS = { follower: 1500, leader: 2000 } as const;
const GOAL_P99_MS = 2500;
/** Scenarios the goals are stated for; the only ones run on labs above 3 nodes. */
const TIMED_SCENARIOS = ['kill-agent', 'cut-owner'];
const ALL_BUT_STOP_ALL = ['kill-agent', 'kill-agent-monitor', 'kill-node', 'stop-agent', 'cut-owner', 'partial-partition', 'leader-killed-during-wait', 'heal-mid-move'];

interface ScenarioRun {
  scenarios: ScenarioSummary[];
  dualActive: number;
  smallestGapMs: number | null;
}

function goals(runs: ScenarioRun[]): object[] {
  const out: object[] = [];
  for (const run of runs) {
    for (const s of run.scenarios) {
      if (!TIMED_SCENARIOS.includes(s.scenario) || s.failoverMs === null) continue;
      out.push({
        scenario: s.scenario,
        kind: s.kind,
        p50: { value: s.failoverMs.p50, target: `<= ${GOAL_P50_MS[s.kind]}`, met: s.failoverMs.p50 <= GOAL_P50_MS[s.kind] },
        p99: { value: s.failoverMs.p99, target: `<= ${GOAL_P99_MS}`, met: s.failoverMs.p99 <= GOAL_P99_MS },
      });
    }
  }
  return out;
}

export async function runFailoverBenchmark(options: FailoverBenchOptions): Promise<object> {
  const trials = options.trials ?? 50;
  const sizes = options.nodes ?? [3, 5];
  const labs: object[] = [];
  for (const nodes of sizes) {
    const scenarios = (nodes <= 3 ? ALL_BUT_STOP_ALL : TIMED_SCENARIOS);
    const plain = await runScenarioBench({ nodes, trials, scenarios, fencing: 'none', ...(options.seed === undefined ? {} : { seed: options.seed }) }) as ScenarioRun;
    const fenced = await runScenarioBench({ nodes, trials, scenarios: ['stop-all'], fencing: 'watchdog', ...(options.seed === undefined ? {} : { seed: options.seed }) }) as ScenarioRun;
    const scale = await runScaleBench({ nodes });
    const gaps = [plain.smallestGapMs, fenced.smallestGapMs].filter((g): g is number => g !== null);
    labs.push({
      nodes,
      dualActive: plain.dualActive + fenced.dualActive,
      smallestGapMs: gaps.length === 0 ? null : Math.min(...gaps),
      goals: goals([plain]),
      fencingNone: plain,
      fencingWatchdog: fenced,
      scale,
    });
  }
  return { trials, labs };
}
