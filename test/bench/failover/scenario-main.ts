// node dist-*/test/bench/failover/scenario-main.js [--nodes 3] [--trials 5]
//   [--scenarios a,b] [--kinds follower,leader] [--fencing none|watchdog] [--seed N]
// Runs the failover scenario benchmark and prints its JSON on stdout;
// progress on stderr. Without --fencing the lab gets watchdogs when
// `fcm lab up` offers them.
import { parseArgs } from 'node:util';
import type { Kind } from '../../failover/scenarios.js';
import { runScenarioBench } from './scenario-bench.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    trials: { type: 'string', default: '5' },
    scenarios: { type: 'string', default: '' },
    kinds: { type: 'string', default: 'follower,leader' },
    fencing: { type: 'string' },
    seed: { type: 'string' },
  },
});

const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
const wholeNumber = (name: string, text: string, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected a whole number of at least ${min}, got ${text}`);
  return n;
};
const kinds = list(values.kinds);
const badKinds = kinds.filter((k) => k !== 'follower' && k !== 'leader');
if (badKinds.length > 0) throw new Error(`--kinds: ${badKinds.join(', ')} is not follower or leader`);
if (values.fencing !== undefined && values.fencing !== 'none' && values.fencing !== 'watchdog') throw new Error(`--fencing: expected none or watchdog, got ${values.fencing}`);

const result = await runScenarioBench({
  nodes: wholeNumber('nodes', values.nodes, 1),
  trials: wholeNumber('trials', values.trials, 1),
  scenarios: list(values.scenarios),
  kinds: kinds as Kind[],
  ...(values.fencing === undefined ? {} : { fencing: values.fencing }),
  ...(values.seed === undefined ? {} : { seed: wholeNumber('seed', values.seed, 0) }),
});
process.stdout.write(`${JSON.stringify({ benchmark: 'failover', ...result }, null, 2)}\n`);
