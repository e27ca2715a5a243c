// The lab's watchdog emulator as a process: `node dist/src/lab/watchdog-main.js
// --config FILE` (watchdog-config.ts). `fcm lab up --fencing watchdog` starts
// it detached before any agent. It makes each node's FIFO (when missing),
// opens their read ends, writes its status file and then its pid file (the
// readiness signal: from then on a guard's open of its device succeeds),
// logs one line per event to stdout (a file), and on SIGTERM or SIGINT
// closes the devices (resetting nobody), removes its pid file and exits 0.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { writeFileAtomic } from './atomic-file.js';
import { LabError, errnoCode } from './lab-error.js';
import { announceReady, daemonConfig, daemonLog as log, runDaemon, stopOnSignals } from './lab-daemon.js';
import { WatchdogEmulator } from './watchdog.js';
import { parseWatchdogConfig, parseWatchdogStatus } from './watchdog-config.js';
import type { WatchdogConfig, WatchdogStatusFile } from './watchdog-config.js';
import { describePowerCut, powerCut } from './watchdog-reset.js';

/** A missing device is made (mode 0600); an existing one must be a FIFO. */
async function ensureFifo(path: string): Promise<void> {
  const found = await stat(path).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  });
  if (found === null) await promisify(execFile)('mkfifo', ['-m', '0600', path]);
  else if (!found.isFIFO()) throw new LabError('E_INVALID', `${path} exists and is not a FIFO`);
}

/** Resets counted by an earlier life (a restarted emulator keeps counting). */
async function earlierResets(statusFile: string): Promise<Record<string, number>> {
  const text = await readFile(statusFile, 'utf8').catch(() => null);
  let status: WatchdogStatusFile | null;
  try {
    status = text === null ? null : parseWatchdogStatus(JSON.parse(text));
  } catch {
    status = null;
  }
  return Object.fromEntries((status?.nodes ?? []).map((n) => [n.id, n.resets]));
}

/** Writes the status after every change, one write at a time, the newest state last. */
function statusWriter(config: WatchdogConfig, emulator: () => WatchdogEmulator): () => Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  let queued = false;
  return () => {
    if (queued) return writing;
    queued = true;
    writing = writing.then(async () => {
      queued = false;
      const status: WatchdogStatusFile = { pid: process.pid, timeoutMs: config.timeoutMs, nodes: emulator().status() };
      await writeFileAtomic(config.statusFile, `${JSON.stringify(status, null, 2)}\n`);
    }).catch((err: unknown) => log(`cannot write ${config.statusFile}: ${(err as Error).message}`));
    return writing;
  };
}

runDaemon('watchdog', async () => {
  const config = parseWatchdogConfig(await daemonConfig('watchdog', 'watchdog-main', process.argv.slice(2)));
  for (const node of config.nodes) await ensureFifo(node.device);
  const resetsBefore = await earlierResets(config.statusFile);
  let emulator: WatchdogEmulator | null = null;
  const writeStatus = statusWriter(config, () => emulator as WatchdogEmulator);
  emulator = new WatchdogEmulator({
    nodes: config.nodes,
    timeoutMs: config.timeoutMs,
    resetsBefore,
    log,
    onChange: () => void writeStatus(),
    reset: async (node) => describePowerCut(await powerCut(node.stateDir)),
  });
  emulator.start();
  await writeStatus();

  stopOnSignals(config.pidFile, log, async (signal) => {
    log(`${signal}: stopping; no node is reset for it`);
    emulator?.close();
    await writeStatus();
  });
  await announceReady(config.pidFile);
  for (const node of config.nodes) log(`${node.name}: device ${node.device}, T_wd ${config.timeoutMs} ms, resets so far ${resetsBefore[node.id] ?? 0}`);
  log(`ready, pid ${process.pid}`);
});
