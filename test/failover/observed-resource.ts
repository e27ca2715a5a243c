// The resource whose life the outside observer judges (observer.ts). Run by
// a `process` resource as `node observed-resource.js SOCKET GROUP`: before
// anything else it connects to the observer's Unix socket and says
// `{"group","node","pid"}` in one line; then it only keeps the connection
// open. The observer counts it active until the kernel closes that socket,
// which happens exactly when this process dies (however it dies), so a
// stopped or hung instance still counts. Only node:net, no timers: the open
// socket alone keeps the process alive, and start-up stays cheap.
import { createConnection } from 'node:net';

const [socketPath, group] = process.argv.slice(2);
if (socketPath === undefined || group === undefined) {
  process.stderr.write('usage: observed-resource SOCKET GROUP\n');
  process.exit(2);
}

const conn = createConnection(socketPath);
conn.once('connect', () => {
  // The process type names no node in the environment; the observer reads it from /proc/<pid>/cgroup when this is null.
  conn.write(`${JSON.stringify({ group, node: process.env.FCM_NODE ?? null, pid: process.pid })}\n`);
});
conn.on('error', (err) => {
  process.stderr.write(`observed-resource: ${socketPath}: ${err.message}\n`);
  process.exit(1);
});
// Nothing reads the observer's side; a closed observer means no one can see this instance any more, so it ends too.
conn.on('data', () => undefined);
conn.once('close', () => process.exit(1));
