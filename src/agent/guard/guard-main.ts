// Entry of the lease guard process:
//   node dist/src/agent/guard/guard-main.js --state-dir DIR --node NAME
//        [--cgroup-root PATH] [--kill-timeout-ms N] [--log-format text|json]
//        [--watchdog /dev/watchdog [--watchdog-timeout-ms N]]
// Prints one JSON line on stdout when it listens ({"event":"ready",...});
// logs go to stderr. SIGTERM or SIGINT: kill every group, remove the cgroup
// root and the socket, exit 0. Exit 2: bad arguments; 1: could not start.

import { writeFile } from 'node:fs/promises';
import { Logger } from '../node/logger.js';
import type { LogFormat } from '../node/logger.js';
import { openContainment } from './cgroups.js';
import { monotonicMs } from './clock.js';
import { LeaseGuard } from './guard.js';
import { WatchdogFeeder, readWatchdogTimeoutMs } from './watchdog.js';

interface GuardArgs {
  stateDir: string;
  node: string;
  cgroupRoot: string | undefined;
  killTimeoutMs: number | undefined;
  logFormat: LogFormat;
  watchdog: string | undefined;
  watchdogTimeoutMs: number | undefined;
}

const USAGE = 'usage: guard-main --state-dir DIR --node NAME [--cgroup-root PATH] [--kill-timeout-ms N] [--log-format text|json] [--watchdog PATH [--watchdog-timeout-ms N]]';

/** Every problem with argv, not only the first. */
function parseArgs(argv: string[]): { args: GuardArgs | null; problems: string[] } {
  const values = new Map<string, string>();
  const problems: string[] = [];
  const known = ['--state-dir', '--node', '--cgroup-root', '--kill-timeout-ms', '--log-format', '--watchdog', '--watchdog-timeout-ms'];
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    if (!known.includes(flag)) problems.push(`unknown argument ${flag}`);
    else if (value === undefined) problems.push(`${flag} needs a value`);
    else values.set(flag, value);
  }
  const positive = (flag: string): number | undefined => {
    const text = values.get(flag);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) problems.push(`${flag} must be a positive number of ms`);
    return n;
  };
  const stateDir = values.get('--state-dir');
  const node = values.get('--node');
  if (stateDir === undefined) problems.push('--state-dir is required');
  if (node === undefined) problems.push('--node is required');
  const logFormat = values.get('--log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') problems.push('--log-format must be text or json');
  const killTimeoutMs = positive('--kill-timeout-ms');
  const watchdogTimeoutMs = positive('--watchdog-timeout-ms');
  if (watchdogTimeoutMs !== undefined && !values.has('--watchdog')) problems.push('--watchdog-timeout-ms needs --watchdog');
  if (problems.length > 0 || stateDir === undefined || node === undefined) return { args: null, problems };
  return {
    args: { stateDir, node, cgroupRoot: values.get('--cgroup-root'), killTimeoutMs, logFormat: logFormat as LogFormat, watchdog: values.get('--watchdog'), watchdogTimeoutMs },
    problems,
  };
}

async function main(): Promise<void> {
  const { args, problems } = parseArgs(process.argv.slice(2));
  if (args === null) {
    process.stderr.write(`${problems.join('\n')}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  // The socket and journals are root's alone.
  process.umask(0o077);
  const log = new Logger({ format: args.logFormat });
  log.setNode(args.node);
  // The kernel's OOM killer should take the programs the guard polices, not the guard.
  await writeFile('/proc/self/oom_score_adj', '-900').catch((err: unknown) => log.warn('cannot lower the guard\'s OOM score', { err }));
  const watchdogTimeoutMs = args.watchdog === undefined ? undefined : (args.watchdogTimeoutMs ?? (await readWatchdogTimeoutMs(args.watchdog)));
  const containment = await openContainment({ nodeName: args.node, stateDir: args.stateDir, cgroupRoot: args.cgroupRoot, warn: (m, f) => log.warn(m, f) });
  const guard = new LeaseGuard({ stateDir: args.stateDir, containment, log, killTimeoutMs: args.killTimeoutMs });
  await guard.start();
  if (args.watchdog !== undefined && watchdogTimeoutMs !== undefined) {
    const state = async (): Promise<{ leaseEnd: number; groupsRunning: boolean }> => ({ leaseEnd: guard.leaseEnd(), groupsRunning: await guard.groupsRunning() });
    try {
      guard.attachWatchdog(new WatchdogFeeder(args.watchdog, watchdogTimeoutMs, state, monotonicMs));
    } catch (err) {
      await guard.stop();
      throw err;
    }
    log.info('feeding the watchdog', { path: args.watchdog, timeoutMs: watchdogTimeoutMs });
  }
  const shutdown = (signal: string): void => {
    log.info('lease guard stopping: killing every group', { signal });
    guard.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('lease guard stop failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  log.info('lease guard listening', { socket: guard.socketPath, containment: containment.kind, root: containment.root });
  process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid, socket: guard.socketPath, containment: { kind: containment.kind, root: containment.root } })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`lease guard failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
