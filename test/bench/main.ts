// `npm run bench [-- NAME...] [--trials N] [--nodes 3,5] [--seed S]`: runs
// the named benchmarks (all by default) and prints one JSON object per
// benchmark on stdout. Progress goes to stderr. The options are read by the
// benchmarks that take them (failover); the others ignore them.
import { parseArgs } from 'node:util';
import type { FailoverBenchOptions } from './failover-bench.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    trials: { type: 'string' },
    nodes: { type: 'string' },
    seed: { type: 'string' },
  },
});

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive whole number, got ${text}`);
  return n;
}

const failoverOptions: FailoverBenchOptions = {
  ...(values.trials === undefined ? {} : { trials: positiveInteger('trials', values.trials) }),
  ...(values.nodes === undefined ? {} : { nodes: values.nodes.split(',').map((n) => positiveInteger('nodes', n.trim())) }),
  ...(values.seed === undefined ? {} : { seed: positiveInteger('seed', values.seed) }),
};

const benchmarks: Record<string, () => Promise<object>> = {
  db: async () => (await import('./db-bench.js')).runDbBenchmark(),
  cluster: async () => (await import('./cluster-bench.js')).runClusterBenchmark(),
  failover: async () => (await import('./failover-bench.js')).runFailoverBenchmark(failoverOptions),
};

async function main(): Promise<void> {
  const unknown = positionals.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})\n`);
    process.exitCode = 2;
    return;
  }
  for (const name of positionals.length > 0 ? positionals : Object.keys(benchmarks)) {
    const run = benchmarks[name] as () => Promise<object>;
    const result = await run();
    process.stdout.write(`${JSON.stringify({ benchmark: name, ...result })}\n`);
  }
}

await main();
