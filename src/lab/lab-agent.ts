// A lab node's agent as a process: `fcm agent run` with the node's state dir,
// addresses and socket (and, in a lab with --fencing watchdog, its emulated
// watchdog device), started detached with its output in the node's
// agent.log, and awaited until its API socket answers.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentIdentity } from '../client/api.js';
import { UnixSocketClient } from '../client/unix-socket-client.js';
import type { LabNode } from './lab-state.js';
import { LabError } from './lab-error.js';
import { isSameProcess } from '../os/process-identity.js';
import { startDetached } from './processes.js';
import type { ProcessRecord } from './processes.js';

/** The CLI entry point of this very build, so a lab runs the agent it was built with. */
const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export function agentArgs(node: LabNode): string[] {
  return [
    CLI_MAIN, 'agent', 'run',
    '--state-dir', node.stateDir,
    '--listen', `${node.privateAddress.host}:${node.privateAddress.port}`,
    '--advertise', `${node.publicAddress.host}:${node.publicAddress.port}`,
    '--source-address', node.sourceHost,
    '--name', node.name,
    '--socket', node.socketPath,
    '--log-format', 'json',
    // Fencing = watchdog: the node's guard feeds its emulated watchdog (watchdog.ts).
    ...(node.watchdog === undefined ? [] : ['--watchdog', node.watchdog.device, '--watchdog-timeout-ms', String(node.watchdog.timeoutMs)]),
  ];
}

export async function startAgent(node: LabNode): Promise<ProcessRecord> {
  await mkdir(node.stateDir, { recursive: true, mode: 0o700 });
  return startDetached({ command: process.execPath, args: agentArgs(node), logFile: node.logFile });
}

/** The last `lines` lines of a log file ('' if there is none). */
export async function logTail(path: string, lines = 15): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Poll interval while an agent starts, ms. */
const START_POLL_MS = 50;

/**
 * Waits until the agent answers agent.identity on its socket. An agent that
 * exits first is E_ADDRESS_IN_USE when its log says a port was taken (the
 * caller retries with other ports), else E_SPAWN with the end of its log.
 */
export async function waitForAgent(node: LabNode, record: ProcessRecord, timeoutMs: number): Promise<AgentIdentity> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!isSameProcess(record)) {
      const tail = await logTail(node.logFile);
      const code = /EADDRINUSE/.test(tail) ? 'E_ADDRESS_IN_USE' : 'E_SPAWN';
      throw new LabError(code, `${node.name}'s agent exited during start; ${node.logFile} ends with:\n${tail}`);
    }
    const identity = await askIdentity(node.socketPath);
    if (identity !== undefined) return identity;
    if (performance.now() >= deadline) {
      throw new LabError('E_TIMEOUT', `${node.name}'s agent did not answer on ${node.socketPath} within ${timeoutMs} ms; ${node.logFile} ends with:\n${await logTail(node.logFile)}`);
    }
    await sleep(START_POLL_MS);
  }
}

async function askIdentity(socket: string): Promise<AgentIdentity | undefined> {
  let client: UnixSocketClient | undefined;
  try {
    client = await UnixSocketClient.connect(socket, { callTimeoutMs: 2000 });
    return await client.call('agent.identity', {});
  } catch {
    // Not listening yet, or not ready to answer: ask again.
    return undefined;
  } finally {
    await client?.close();
  }
}
