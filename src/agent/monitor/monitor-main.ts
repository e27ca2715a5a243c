// Entry of a resource monitor process, forked by the agent (MonitorClient)
// with an IPC channel. It heartbeats every --heartbeat-ms so the agent can
// tell a stuck monitor from a busy one. When the channel closes (the agent
// died or let go of it) it terminates every resource it may be running,
// each within its stop deadline, and exits: a group's processes die with
// the agent (and, should this process be killed, with the lease guard).

import { parseArgs } from 'node:util';
import { setProcessNice } from '../../os/scheduling.js';
import type { MonitorMessage, MonitorRequest } from './protocol.js';
import { ResourceMonitor } from './resource-monitor.js';

// The agent's raised CPU priority is not for resources: they, and the work
// of starting them, run at the default (src/os/scheduling.ts). Lowering
// one's own priority always works; the autogroup stays the agent's.
setProcessNice(0, { autogroup: false });

const { values } = parseArgs({ options: { 'heartbeat-ms': { type: 'string', default: '1000' } } });
const heartbeatMs = Number(values['heartbeat-ms']);

if (process.send === undefined) {
  process.stderr.write('monitor-main is started by the agent with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

function send(message: MonitorMessage): void {
  // After a disconnect there is nobody to tell.
  if (process.connected) process.send?.(message);
}

const monitor = new ResourceMonitor(send);
process.on('message', (request: MonitorRequest) => monitor.handle(request));

send({ kind: 'heartbeat' });
const heartbeat = setInterval(() => send({ kind: 'heartbeat' }), heartbeatMs);

process.once('disconnect', () => {
  clearInterval(heartbeat);
  monitor.terminateAll().finally(() => process.exit(0));
});
