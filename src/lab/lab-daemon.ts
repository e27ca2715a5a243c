// The lab's own long-running processes (the relay, the watchdog emulator):
// started detached with a config file, ready once their pid file names
// them, stopped by SIGTERM through stopProcess(record). One protocol for
// both sides: `startDaemon` for the lab; `runDaemon`, `daemonConfig`,
// `daemonLog`, `announceReady` and `stopOnSignals` for the daemon's main.
import { readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from './atomic-file.js';
import { LabError, errnoCode } from './lab-error.js';
import { logTail } from './lab-agent.js';
import { isSameProcess, processIdentity } from '../os/process-identity.js';
import { DEFAULT_AGENT_NICE, setProcessNice } from '../os/scheduling.js';
import { processRecordProblems, startDetached, stopProcess } from './processes.js';
import type { ProcessRecord } from './processes.js';

export interface DaemonFiles {
  /** Where the config is written for the daemon to read. */
  configFile: string;
  /** The daemon's stdout and stderr. */
  logFile: string;
}

/** A daemon that has not exited within this long after its cleanup began exits anyway, ms. */
const EXIT_FALLBACK_MS = 2000;

async function readPidFile(path: string): Promise<ProcessRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return processRecordProblems(value, 'pid file').length === 0 ? (value as ProcessRecord) : undefined;
  } catch {
    // Absent: not ready yet (it is renamed into place, never torn).
    return undefined;
  }
}

/**
 * Writes `config`, starts `node main --config FILE` detached and waits until
 * its pid file names it. One that exits first is E_SPAWN with the end of its
 * log; one not ready within `timeoutMs` is stopped, E_TIMEOUT. `what` names
 * it in errors ("the relay").
 */
export async function startDaemon(what: string, main: string, config: { pidFile: string }, files: DaemonFiles, timeoutMs: number): Promise<ProcessRecord> {
  await writeFileAtomic(files.configFile, `${JSON.stringify(config, null, 2)}\n`);
  await unlink(config.pidFile).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  const record = await startDetached({ command: process.execPath, args: [main, '--config', files.configFile], logFile: files.logFile });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const written = await readPidFile(config.pidFile);
    if (written !== undefined && written.pid === record.pid && written.startTime === record.startTime) return record;
    if (!isSameProcess(record)) throw new LabError('E_SPAWN', `${what} exited during start; ${files.logFile} ends with:\n${await logTail(files.logFile)}`);
    await sleep(20);
  }
  await stopProcess(record, { graceMs: 1000 });
  throw new LabError('E_TIMEOUT', `${what} was not ready within ${timeoutMs} ms; see ${files.logFile}`);
}

/** The daemon's side: one line per event on stdout (the lab points it at a file). */
export function daemonLog(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/**
 * The daemon's side, first thing: `argv` must be `--config FILE`; the
 * daemon then runs at the agents' CPU priority (src/os/scheduling.ts: the
 * relay stands for the network and the watchdog emulator for hardware,
 * neither waits behind the resources) and gets FILE's JSON to parse.
 * `what` names it in errors ("relay"), `program` in the usage line.
 */
export async function daemonConfig(what: string, program: string, argv: string[]): Promise<unknown> {
  const [flag, file, ...rest] = argv;
  if (flag !== '--config' || file === undefined || rest.length > 0) throw new LabError('E_INVALID', `usage: ${program} --config FILE`);
  const problems = setProcessNice(DEFAULT_AGENT_NICE, { autogroup: true });
  if (problems.length > 0) daemonLog(`cannot raise the CPU priority to nice ${DEFAULT_AGENT_NICE}: ${problems.join('; ')}`);
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new LabError('E_INVALID', `cannot read ${what} config ${file}: ${(err as Error).message}`, [], { cause: err });
  }
}

/** The daemon's side: runs `main`; a failure is one line on stderr (`what: CODE: message`) and exit status 1. */
export function runDaemon(what: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = err instanceof LabError ? err.code : 'E_INTERNAL';
    process.stderr.write(`${what}: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

/** The daemon's side: it is ready; its {pid, startTime} goes to the pid file, atomically. */
export async function announceReady(pidFile: string): Promise<void> {
  const self = processIdentity(process.pid);
  if (self === undefined) throw new LabError('E_SPAWN', 'cannot read /proc/self/stat');
  await writeFileAtomic(pidFile, `${JSON.stringify(self)}\n`);
}

/**
 * The daemon's side: on SIGTERM or SIGINT, once, `cleanup`, then removal of
 * the pid file, then exit 0 (after EXIT_FALLBACK_MS at the latest, should
 * anything keep the event loop alive).
 */
export function stopOnSignals(pidFile: string, log: (line: string) => void, cleanup: (signal: string) => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    void cleanup(signal)
      .then(() => unlink(pidFile))
      .catch((err: unknown) => log(`cleanup: ${(err as Error).message}`))
      .finally(() => setTimeout(() => process.exit(0), EXIT_FALLBACK_MS).unref());
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
