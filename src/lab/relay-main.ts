// The relay as a process: `node dist/src/lab/relay-main.js --config FILE`.
// The lab starts it detached (see relay-process.ts). It writes its pid file
// once every listener and the control socket are up (that file is the
// readiness signal), logs one line per event to stdout (a file), and on
// SIGTERM or SIGINT resets every connection, removes its socket and pid file
// and exits 0.
import { readFile } from 'node:fs/promises';
import { announceReady, runAtAgentPriority, stopOnSignals } from './lab-daemon.js';
import { LabError } from './lab-error.js';
import { parseRelayConfig } from './relay-config.js';
import { startRelay } from './relay.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv.length !== 2 || argv[0] !== '--config' || argv[1] === undefined) {
    throw new LabError('E_INVALID', 'usage: relay-main --config FILE');
  }
  runAtAgentPriority(log);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(argv[1], 'utf8'));
  } catch (err) {
    throw new LabError('E_INVALID', `cannot read relay config ${argv[1]}: ${(err as Error).message}`, [], { cause: err });
  }
  const config = parseRelayConfig(value);
  const relay = await startRelay({ routes: config.routes, controlSocket: config.controlSocket, log });

  stopOnSignals(config.pidFile, log, async (signal) => {
    log(`${signal}: stopping`);
    await relay.close();
  });
  await announceReady(config.pidFile);
  for (const node of relay.status()) log(`route ${node.node}: ${node.publicAddress} -> ${node.targetAddress} (source ${node.sourceHost})`);
  log(`ready, pid ${process.pid}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof LabError ? err.code : 'E_INTERNAL';
  process.stderr.write(`relay: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
