// node dist-*/test/bench/failover/scale-main.js [--nodes 3[,5]] [--trials 30]
//   [--cpu-prof DIR] [--logs DIR]
// Runs the scale benchmark once per lab size and prints one JSON object per
// run on stdout; progress on stderr. --cpu-prof: every Node process of the
// lab (agents, monitors, guards, the CLI) writes a V8 CPU profile into DIR
// when it exits normally (scale-profile.ts, preloaded through NODE_OPTIONS,
// which the lab passes on to its agents). --logs: each node's agent log is
// copied into DIR (NODE.log) before the lab goes down.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runScaleBench } from './scale-bench.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    trials: { type: 'string', default: '30' },
    'cpu-prof': { type: 'string' },
    logs: { type: 'string' },
  },
});

const count = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${text}`);
  return n;
};
const sizes = values.nodes.split(',').map((s) => count('nodes', s.trim()));
const trials = count('trials', values.trials);
const profileDir = values['cpu-prof'];
if (profileDir !== undefined) {
  // Read by Node at start-up: this process is already running, the lab's processes are not.
  const preload = fileURLToPath(new URL('./scale-profile.js', import.meta.url));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
  process.env.FCM_BENCH_CPU_PROF_DIR = resolve(profileDir);
}

for (const nodes of sizes) {
  const result = await runScaleBench({ nodes, restartTrials: trials, ...(values.logs === undefined ? {} : { logDir: resolve(values.logs, `${nodes}-nodes`) }) });
  process.stdout.write(`${JSON.stringify({ benchmark: 'failover-scale', ...result }, null, 2)}\n`);
}
