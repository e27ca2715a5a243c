// The built CLI as a user runs it: `node dist-*/src/cli/main.js ...` in its
// own process, timed from spawn to exit (Node start-up included, as a user
// waits for it). Paths come from this file's URL, so any dist-* folder works.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const CLI_MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

export interface CliRun {
  /** Wall time from spawn to exit, ms. */
  ms: number;
  status: number | null;
  out: string;
  err: string;
}

/** Runs `node ...argv`; killed (SIGKILL, by its PID) after `timeoutMs` so a hung CLI cannot stall the benchmark. */
export function runNode(env: NodeJS.ProcessEnv, argv: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, status, out, err });
    });
  });
}

export const runFcm = (env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs?: number): Promise<CliRun> => runNode(env, [CLI_MAIN, ...args], timeoutMs);

/** `fcm ...args --json`: exit 0 expected; the document and the wall time. */
export async function fcmJson<T>(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs?: number): Promise<{ ms: number; doc: T }> {
  const run = await runFcm(env, [...args, '--json'], timeoutMs);
  if (run.status !== 0) throw new Error(`fcm ${args.join(' ')} exited ${run.status}: ${run.out}${run.err}`);
  return { ms: run.ms, doc: JSON.parse(run.out) as T };
}

/**
 * Wall times of `runs` rounds; each round runs every command once, in turn
 * (`node ...argv`, each must exit 0), so that all see the same machine load.
 */
export async function timeInterleaved<K extends string>(env: NodeJS.ProcessEnv, commands: Record<K, (i: number) => readonly string[]>, runs: number): Promise<Record<K, number[]>> {
  const names = Object.keys(commands) as K[];
  const times = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < runs; i++) {
    for (const name of names) {
      const argv = commands[name](i);
      const run = await runNode(env, argv);
      if (run.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${run.status}: ${run.err}`);
      times[name].push(run.ms);
    }
  }
  return times;
}
