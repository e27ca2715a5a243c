// What a running command may use besides its Invocation (CommandContext):
// the agent connection, confirmations, spinners and warnings. The client
// and lab modules load only when a command connects, so `fcm --help` and
// `fcm completion` never load them.
import type { AgentClient } from '../client/agent-client.js';
import type { CliIo, CommandContext, GlobalOptions } from './command-spec.js';
import { FcmError } from './errors.js';
import { spinnerWanted, withSpinner } from './spinner.js';

/** Longest wait for one answer from an agent when --timeout is not given, ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface CommandSession {
  context: CommandContext;
  /** Closes the connection connect() opened (never a client passed in). */
  close(): Promise<void>;
  /** Whether the command printed part of its result already (context.print). */
  streamed(): boolean;
}

/** @param client an agent to use instead of the one the global options name; not closed here */
export function commandSession(globals: GlobalOptions, io: CliIo, client?: AgentClient): CommandSession {
  // A pty nobody sized reports 0 columns: ora would redraw without end there.
  const drawable = io.stderr.isTTY === true && (io.stderr as { columns?: number }).columns !== 0;
  const spinnerEnabled = spinnerWanted({ stderrIsTTY: drawable, json: globals.json, quiet: globals.quiet });
  const warn = (message: string): void => {
    if (!globals.quiet) io.stderr.write(`warning: ${message}\n`);
  };
  const connectOptions = { callTimeoutMs: globals.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, identityFile: globals.identity, warn };
  let opened: Promise<AgentClient> | undefined;
  let printed = false;

  const context: CommandContext = {
    globals,
    spin: (label, work) => withSpinner(label, work, { enabled: spinnerEnabled, stream: io.stderr }),
    warn,
    note: (message) => {
      if (globals.verbose) io.stderr.write(`${message}\n`);
    },
    connect: () => {
      if (client !== undefined) return Promise.resolve(client);
      opened ??= (async () => {
        const [{ connectTarget, resolveTarget }, { labLookup }] = await Promise.all([import('../client/target.js'), import('../lab/lab-target.js')]);
        return connectTarget(await resolveTarget(globals, labLookup()), connectOptions);
      })();
      return opened;
    },
    connectAddress: async (address) => {
      const [{ connectTarget, resolveAddressTarget }, { labLookup }] = await Promise.all([import('../client/target.js'), import('../lab/lab-target.js')]);
      return connectTarget(await resolveAddressTarget(address, globals, labLookup()), connectOptions);
    },
    confirm: async (question) => {
      if (globals.yes) return true;
      const stdin = io.stdin;
      if (stdin === undefined || stdin.isTTY !== true || io.stderr.isTTY !== true || globals.json) {
        throw new FcmError('E_REFUSED', `not confirmed: ${question}`, 'nobody can answer here: pass --yes to confirm');
      }
      // ~50 ms to import: only when a person is really asked.
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: question, default: false }, { input: stdin, output: io.stderr });
    },
    print: (text) => {
      printed = true;
      io.stdout.write(text);
    },
  };

  return {
    context,
    streamed: () => printed,
    close: async () => {
      if (opened === undefined) return;
      const connection = await opened.catch(() => undefined);
      await connection?.close();
    },
  };
}
