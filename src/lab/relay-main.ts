// The relay as a process: `node dist/src/lab/relay-main.js --config FILE`.
// The lab starts it detached (see relay-process.ts). It writes its pid file
// once every listener and the control socket are up (that file is the
// readiness signal), logs one line per event to stdout (a file), and on
// SIGTERM or SIGINT resets every connection, removes its socket and pid file
// and exits 0.
import { announceReady, daemonConfig, daemonLog as log, runDaemon, stopOnSignals } from './lab-daemon.js';
import { parseRelayConfig } from './relay-config.js';
import { startRelay } from './relay.js';

runDaemon('relay', async () => {
  const config = parseRelayConfig(await daemonConfig('relay', 'relay-main', process.argv.slice(2)));
  const relay = await startRelay({ routes: config.routes, controlSocket: config.controlSocket, log });

  stopOnSignals(config.pidFile, log, async (signal) => {
    log(`${signal}: stopping`);
    await relay.close();
  });
  await announceReady(config.pidFile);
  for (const node of relay.status()) log(`route ${node.node}: ${node.publicAddress} -> ${node.targetAddress} (source ${node.sourceHost})`);
  log(`ready, pid ${process.pid}`);
});
