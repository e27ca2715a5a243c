// `fcm`: the process around runCli. Importing this module runs the CLI
// (bin/fcm imports it; `node dist/src/cli/main.js ...` works the same).
import { runCli } from './run.js';

// `fcm events --json | head` closes the pipe early: stop quietly, as Unix
// tools do, instead of dying with an unhandled EPIPE error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit();
    throw err;
  });
}

// stdin is touched only when a command asks for confirmation.
const io = { stdout: process.stdout, stderr: process.stderr, get stdin() { return process.stdin; } };
process.exitCode = await runCli(process.argv.slice(2), io);
