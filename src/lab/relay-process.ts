// Start the relay as a detached process, as the lab does. Stop it with
// stopProcess(record): on SIGTERM it resets its connections and removes its
// control socket and pid file.
import { fileURLToPath } from 'node:url';
import { startDaemon } from './lab-daemon.js';
import type { DaemonFiles } from './lab-daemon.js';
import type { ProcessRecord } from './processes.js';
import type { RelayConfig } from './relay-config.js';

const RELAY_MAIN = fileURLToPath(new URL('./relay-main.js', import.meta.url));

export type RelayProcessFiles = DaemonFiles;

/**
 * Write the config, start `relay-main` detached and wait until its pid file
 * names it (it is listening). A relay that exits first is E_SPAWN with the
 * end of its log; one that is not ready in `timeoutMs` is stopped, E_TIMEOUT.
 */
export async function startRelayProcess(config: RelayConfig, files: RelayProcessFiles, timeoutMs = 10_000): Promise<ProcessRecord> {
  return startDaemon('the relay', RELAY_MAIN, config, files, timeoutMs);
}
