// `npm run bench [-- NAME...]`: runs the named benchmarks (all by default)
// and prints one JSON object per benchmark on stdout. Progress goes to stderr.
const benchmarks: Record<string, () => Promise<object>> = {
  db: async () => (await import('./db-bench.js')).runDbBenchmark(),
  cluster: async () => (await import('./cluster-bench.js')).runClusterBenchmark(),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})\n`);
    process.exitCode = 2;
    return;
  }
  for (const name of names.length > 0 ? names : Object.keys(benchmarks)) {
    const run = benchmarks[name] as () => Promise<object>;
    const result = await run();
    process.stdout.write(`${JSON.stringify({ benchmark: name, ...result })}\n`);
  }
}

await main();
