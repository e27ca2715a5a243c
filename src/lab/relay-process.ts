// Start the relay as a detached process, as the lab does. Stop it with
// stopProcess(record): on SIGTERM it resets its connections and removes its
// control socket and pid file.
import { readFile, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from './atomic-file.js';
import { LabError, errnoCode } from './lab-error.js';
import { isSameProcess } from '../os/process-identity.js';
import { processRecordProblems, startDetached, stopProcess } from './processes.js';
import type { ProcessRecord } from './processes.js';
import type { RelayConfig } from './relay-config.js';

const RELAY_MAIN = fileURLToPath(new URL('./relay-main.js', import.meta.url));

export interface RelayProcessFiles {
  /** Where the config is written for the relay to read. */
  configFile: string;
  /** The relay's stdout and stderr. */
  logFile: string;
}

async function readPidFile(path: string): Promise<ProcessRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return processRecordProblems(value, 'pid file').length === 0 ? (value as ProcessRecord) : undefined;
  } catch {
    // Absent (not ready yet); a torn file cannot happen, it is renamed into place.
    return undefined;
  }
}

async function logTail(path: string, bytes = 2000): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.slice(-bytes).trim();
}

/**
 * Write the config, start `relay-main` detached and wait until its pid file
 * names it (it is listening). A relay that exits first is E_SPAWN with the
 * end of its log; one that is not ready in `timeoutMs` is stopped, E_TIMEOUT.
 */
export async function startRelayProcess(config: RelayConfig, files: RelayProcessFiles, timeoutMs = 10_000): Promise<ProcessRecord> {
  await writeFileAtomic(files.configFile, `${JSON.stringify(config, null, 2)}\n`);
  await unlink(config.pidFile).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  const record = await startDetached({ command: process.execPath, args: [RELAY_MAIN, '--config', files.configFile], logFile: files.logFile });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const written = await readPidFile(config.pidFile);
    if (written !== undefined && written.pid === record.pid && written.startTime === record.startTime) return record;
    if (!isSameProcess(record)) {
      throw new LabError('E_SPAWN', `the relay exited during start; ${files.logFile} ends with:\n${await logTail(files.logFile)}`);
    }
    await sleep(20);
  }
  await stopProcess(record, { graceMs: 1000 });
  throw new LabError('E_TIMEOUT', `the relay was not ready within ${timeoutMs} ms; see ${files.logFile}`);
}
