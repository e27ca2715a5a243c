// What an SSH client may run on the agent's embedded server (`ssh -p PORT
// node COMMAND`), once it logged in with an authorised key:
//   fcm-api      the channel becomes a JSON-lines API connection, the same
//                protocol as the local socket
//   anything     an fcm command line, run in-process against this agent:
//   else         `ssh -p 7422 node1 status --json` works with plain OpenSSH
import type { ServerChannel } from 'ssh2';
import type { AgentClient } from '../../client/agent-client.js';
import { ApiCallError } from '../../client/agent-client.js';
import type { ApiMethod, ApiParams, ApiResult } from '../../client/api.js';
import type { AdminRole } from '../db/schema.js';
import type { Identity } from '../transport/server.js';
import { errorBody } from './agent-error.js';
import { serveJsonLines } from './api-server.js';
import type { Caller } from './api-server.js';
import type { NodeAgent } from './node-agent.js';
import { splitWords } from '../types/command-line.js';

export const API_COMMAND = 'fcm-api';

/** Exit status for a command line that cannot be split (unbalanced quotes): a usage error. */
const EXIT_USAGE = 2;
/** Exit status for a command that is not run inside the agent (fcm(1): refused). */
const EXIT_REFUSED = 4;

/** Global options whose value is the next word (command-tree.ts). */
const GLOBAL_OPTIONS_WITH_VALUE = ['--host', '--cluster', '--lab', '--via', '--identity', '--timeout'];

/**
 * Commands that would start processes or prompt inside the agent: an agent
 * within the agent, a lab of agents as its children, the interactive wizard.
 */
function refusal(argv: readonly string[]): string | null {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (GLOBAL_OPTIONS_WITH_VALUE.includes(word)) i++;
    else if (!word.startsWith('-')) words.push(word);
  }
  if (words[0] === 'agent' && words[1] === 'run') return 'agent run cannot be run inside a running agent';
  if (words[0] === 'lab') return 'lab commands are not run inside an agent: run them on the machine itself';
  if (words[0] === 'setup') return 'the setup wizard needs a terminal: run it on your own machine with --host';
  return null;
}

export function handleExec(agent: NodeAgent, identity: Identity, command: string, channel: ServerChannel): void {
  const caller: Caller = identity.kind === 'peer'
    ? { actor: identity.nodeId, role: 'admin' }
    : { actor: identity.name, role: identity.role as AdminRole };
  if (command.trim() === API_COMMAND) {
    serveJsonLines(channel, caller, (m, p, c) => agent.api.dispatch(m, p, c), agent.log, () => {
      channel.exit(0);
      channel.end();
    });
    return;
  }
  runCommandLine(agent, caller, command, channel).catch((err: unknown) => {
    agent.log.error('command over SSH failed', { command: command.slice(0, 200), err });
    finish(channel, 1);
  });
}

async function runCommandLine(agent: NodeAgent, caller: Caller, command: string, channel: ServerChannel): Promise<void> {
  const argv = splitWords(command);
  if (argv === null) {
    channel.stderr.write('error: the command line has an unbalanced quote\n');
    finish(channel, EXIT_USAGE);
    return;
  }
  // `ssh node fcm status` and `ssh node status` both work.
  if (argv[0] === 'fcm') argv.shift();
  const refused = refusal(argv);
  if (refused !== null) {
    channel.stderr.write(`error: ${refused}\n`);
    finish(channel, EXIT_REFUSED);
    return;
  }
  agent.log.info('command over SSH', { actor: caller.actor, argv: argv.slice(0, 8) });
  const { runCli } = await import('../../cli/run.js');
  const client = new DirectAgentClient(agent, caller);
  const code = await runCli(argv, { stdout: channel, stderr: channel.stderr }, undefined, { client });
  finish(channel, code);
}

function finish(channel: ServerChannel, code: number): void {
  if (channel.writableEnded) return;
  channel.exit(code);
  channel.end();
}

/** An AgentClient that calls this agent's API handler directly, as `caller`. */
class DirectAgentClient implements AgentClient {
  constructor(private readonly agent: NodeAgent, private readonly caller: Caller) {}

  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    try {
      // Round-trip through JSON, as on the socket: the command gets plain data it may keep or change.
      const result = await this.agent.api.dispatch(method, params, this.caller);
      return JSON.parse(JSON.stringify(result ?? null)) as ApiResult<M>;
    } catch (err) {
      const body = errorBody(err);
      throw new ApiCallError(body.code, body.message, body.hint, body.reports);
    }
  }

  async close(): Promise<void> {}
}
