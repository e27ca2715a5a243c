// The simulator's command line (`npm run sim -- ...`):
//   --seeds N [--start S] [--json] [--bug NAME]   run seeds S..S+N-1 (S defaults to 1)
//   --seed S [--trace] [--bug NAME]               replay one seed, with a readable trace
//   --resources | --no-resources                  the resource world on every seed, or on none
//                                                 (default: on the half of the seeds that pick it)
// Exit codes: 0 all passed; 1 a safety checker failed; 2 liveness failed;
// 3 the core threw; 64 usage error.
import { BUG_NAMES, runSeed } from './world.js';
import type { BugName } from './world.js';
import { replayCommand, runSeeds } from './batch.js';
import type { SeedFailure } from './batch.js';

interface Args {
  seeds: number | null;
  seed: number | null;
  start: number;
  json: boolean;
  trace: boolean;
  bug: BugName | undefined;
  resources: boolean | undefined;
}

class UsageError extends Error {}

const USAGE = 'usage: npm run sim -- --seeds N [--start S] [--json] [--bug NAME] [--resources|--no-resources] | --seed S [--trace] [--bug NAME] [--resources|--no-resources]';

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: null, seed: null, start: 1, json: false, trace: false, bug: undefined, resources: undefined };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n)) throw new UsageError(`${flag} needs an integer, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--seeds':
        args.seeds = int(a, argv[++i]);
        break;
      case '--seed':
        args.seed = int(a, argv[++i]);
        break;
      case '--start':
        args.start = int(a, argv[++i]);
        break;
      case '--json':
        args.json = true;
        break;
      case '--trace':
        args.trace = true;
        break;
      case '--resources':
      case '--no-resources':
        args.resources = a === '--resources';
        break;
      case '--bug': {
        const b = argv[++i];
        if (!BUG_NAMES.includes(b as BugName)) throw new UsageError(`--bug must be one of ${BUG_NAMES.join(', ')}`);
        args.bug = b as BugName;
        break;
      }
      default:
        throw new UsageError(`unknown argument ${a ?? ''}`);
    }
  }
  if ((args.seeds === null) === (args.seed === null)) throw new UsageError('give exactly one of --seeds and --seed');
  return args;
}

function exitCodeFor(failures: readonly { checker: string }[]): number {
  if (failures.some((f) => f.checker !== 'liveness' && f.checker !== 'exception')) return 1;
  if (failures.some((f) => f.checker === 'exception')) return 3;
  return failures.length > 0 ? 2 : 0;
}

function replayOne(args: Args, seed: number): number {
  const r = runSeed({
    seed,
    trace: true,
    ...(args.trace ? { onTraceLine: (line: string) => process.stdout.write(`${line}\n`) } : {}),
    ...(args.bug !== undefined ? { bug: args.bug } : {}),
    ...(args.resources !== undefined ? { resources: args.resources } : {}),
  });
  const s = r.stats;
  const summary = `seed ${seed}: ${r.violation === null ? 'ok' : `FAILED ${r.violation.checker}`} (${s.simulatedMs.toFixed(0)} ms simulated, ${s.events} events, ` +
    `${s.elections} elections, ${s.crashes} crashes, ${s.clientOps} client ops, trace hash ${r.traceHash.toString(16)})`;
  process.stdout.write(`${summary}\n`);
  if (r.violation !== null) {
    process.stdout.write(`${r.violation.checker}: ${r.violation.detail}\n`);
    if (!args.trace) process.stdout.write(`last events:\n${r.traceTail.join('\n')}\nreplay: ${replayCommand(seed, args.bug, args.resources)}\n`);
    return exitCodeFor([r.violation]);
  }
  return 0;
}

function runMany(args: Args, count: number): number {
  const startedAt = performance.now();
  const b = runSeeds({
    start: args.start,
    count,
    ...(args.bug !== undefined ? { bug: args.bug } : {}),
    ...(args.resources !== undefined ? { resources: args.resources } : {}),
  });
  const wallMs = Math.round(performance.now() - startedAt);
  const report = (f: SeedFailure): string => `FAIL seed ${f.seed}: ${f.checker}: ${f.detail}\n  replay: ${f.replay}\n`;
  if (args.json) {
    for (const f of b.failures) process.stderr.write(report(f));
    const failed = b.failures.map((f) => ({ seed: f.seed, checker: f.checker, replay: f.replay }));
    process.stdout.write(`${JSON.stringify({ seeds: b.seeds, failures: b.failures.length, ...b.stats, wallMs, failed })}\n`);
  } else {
    for (const f of b.failures) process.stdout.write(report(f));
    const s = b.stats;
    process.stdout.write(
      `${b.seeds} seeds, ${b.failures.length} failed in ${wallMs} ms: ${s.elections} elections, ${s.crashes} crashes, ${s.tornTails} torn tails, ` +
        `${s.partitions} partitions, ${s.snapshotsInstalled} snapshots installed, ${s.membershipChanges} membership changes, ${s.clientOps} client ops, ` +
        `${s.messagesDropped} messages dropped; ${s.resourceRuns} resource runs: ${s.processStarts} process starts, ${s.processDeaths} deaths, ${s.pauses} pauses, ${s.isolations} isolations\n`,
    );
  }
  return exitCodeFor(b.failures);
}

function main(argv: string[]): number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 64;
  }
  return args.seed !== null ? replayOne(args, args.seed) : runMany(args, args.seeds ?? 0);
}

// A reader that stops early (`| head`) closes the pipe: that is not a failure of the run.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
process.exitCode = main(process.argv.slice(2));
