// The one entry point that runs a command line: parse, run the command,
// write its result, map any error to a message and an exit code. Results
// go to stdout; progress, warnings and (in human mode) errors to stderr.
import type { AgentClient } from '../client/agent-client.js';
import type { CliIo, CommandResult, CommandSpec } from './command-spec.js';
import { COMMAND_TREE } from './command-tree.js';
import { commandSession } from './context.js';
import type { CommandSession } from './context.js';
import { FcmError, asFcmError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { parseArgv } from './program.js';
import { renderJson } from './render.js';

export interface RunOptions {
  /**
   * The agent every command talks to, instead of the one --host, --lab or
   * the local socket name: the agent passes itself when it runs a command
   * line for an SSH client. runCli does not close it.
   */
  client?: AgentClient;
}

/**
 * Runs one command line and returns the exit code; never throws.
 * @param tree the command table; tests pass their own commands
 */
export async function runCli(argv: readonly string[], io: CliIo, tree: CommandSpec = COMMAND_TREE, options: RunOptions = {}): Promise<number> {
  // Known before parsing, so that a usage error is reported as JSON too.
  const json = jsonRequested(argv);
  let verbose = false;
  let session: CommandSession | undefined;
  try {
    const parsed = parseArgv(argv, tree, {
      writeOut: (text) => io.stdout.write(text),
      // Help after a usage error is for people; JSON mode prints only the error.
      writeErr: (text) => {
        if (!json) io.stderr.write(text);
      },
    });
    if (parsed.kind === 'shown') return ExitCode.Ok;
    const { spec, invocation } = parsed;
    verbose = invocation.globals.verbose;
    if (spec.run === undefined) {
      throw new FcmError('E_NOT_IMPLEMENTED', notBuiltMessage(invocation.path), 'fcm --help marks what is not built; README.md says what is');
    }
    session = commandSession(invocation.globals, io, options.client);
    let result: CommandResult;
    try {
      result = await spec.run(invocation, session.context);
    } finally {
      await session.close();
    }
    writeResult(result, invocation.globals.json, io);
    return result.exitCode ?? ExitCode.Ok;
  } catch (thrown) {
    return writeError(thrown, json, verbose, io, session?.streamed() ?? false);
  }
}

function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function writeResult(result: CommandResult, json: boolean, io: CliIo): void {
  if (result.streamed === true) return;
  if (json) {
    io.stdout.write(renderJson(result.data));
    return;
  }
  const text = typeof result.text === 'function' ? result.text() : result.text;
  if (text !== '') io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** After streamed lines (NDJSON), a JSON error is one line too. */
function writeError(thrown: unknown, json: boolean, verbose: boolean, io: CliIo, streamed: boolean): number {
  const error = asFcmError(thrown);
  if (json) {
    const doc = { error: { code: error.code, message: error.message, hint: error.hint ?? null } };
    io.stdout.write(streamed ? `${JSON.stringify(doc)}\n` : renderJson(doc));
  } else {
    io.stderr.write(`error: ${error.message}\n`);
    if (error.hint !== undefined) io.stderr.write(`hint: ${error.hint}\n`);
  }
  if (verbose && error.code === 'E_INTERNAL' && thrown instanceof Error && thrown.stack !== undefined) {
    io.stderr.write(`${thrown.stack}\n`);
  }
  return error.exitCode;
}

/** What E_NOT_IMPLEMENTED says for a command that is not built. */
export function notBuiltMessage(path: readonly string[]): string {
  return `${path.join(' ')} is not built in this version of fcm`;
}
