// Command lines run through runCli with the agent passed in (as the agent's
// exec handler does), over a real Unix socket to a test agent that speaks
// the API contract with the handlers a test gives it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnixSocketClient } from '../../src/client/unix-socket-client.js';
import { runCli } from '../../src/cli/run.js';
import { captureIo } from './capture.js';
import type { Handler, TestAgent } from './test-agent.js';
import { startTestAgent } from './test-agent.js';

export type RunCommand = (argv: string[]) => Promise<{ exitCode: number; out: string; err: string }>;

/** Runs `use` with a command runner and the methods the agent was asked, in order; `requests` has their params too. */
export async function withAgent(
  handlers: Record<string, Handler>,
  use: (run: RunCommand, methods: () => string[], requests: () => TestAgent['requests']) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-cmd-'));
  const agent = await startTestAgent(join(dir, 'agent.sock'), handlers);
  const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 5000 });
  try {
    await use(async (argv) => {
      const { io, stdout, stderr } = captureIo();
      const exitCode = await runCli(argv, io, undefined, { client });
      return { exitCode, out: stdout.text, err: stderr.text };
    }, () => agent.requests.map((r) => r.method), () => agent.requests);
  } finally {
    await client.close();
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  }
}
