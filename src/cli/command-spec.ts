// The shapes shared by the command table, the parser and the commands.
// A command is data (CommandSpec) plus, once it can really run, a `run`
// function that lazily imports its module from src/cli/commands/.
import type { Readable, Writable } from 'node:stream';
import type { AgentClient } from '../client/agent-client.js';
import type { ExitCode } from './exit-codes.js';

/** Options that every command accepts, parsed once by program.ts. */
export interface GlobalOptions {
  json: boolean;
  /** SSH target of a cluster node (`[user@]host[:port]`); default: the local agent or the lab. */
  host: string | undefined;
  /** The lab's directory (`--lab`, else $FCM_LAB). */
  lab: string | undefined;
  /** Node to go through when the target is not reachable directly. */
  via: string | undefined;
  /** Private key file for SSH; default: ssh-agent. */
  identity: string | undefined;
  /** How long to wait for the cluster to reach a new state, ms; undefined: the command's default. */
  timeoutMs: number | undefined;
  wait: boolean;
  yes: boolean;
  force: boolean;
  quiet: boolean;
  verbose: boolean;
}

/** What a command returns; run.ts renders it (JSON: `data`; human: `text`). */
export interface CommandResult {
  data: unknown;
  /** Human rendering; a function when building it costs (tables), so --json skips it. */
  text: string | (() => string);
  exitCode?: ExitCode;
  /** The command printed its whole result as it went (context.print): nothing more is written. */
  streamed?: boolean;
}

/** The side channels a command may use; results go only in CommandResult. */
export interface CommandContext {
  globals: GlobalOptions;
  /** Shows a spinner on stderr while `work` runs: only on a TTY, never with --json or -q. */
  spin<T>(label: string, work: () => Promise<T>): Promise<T>;
  /** A warning on stderr, unless -q. */
  warn(message: string): void;
  /** A progress detail on stderr, only with -v. */
  note(message: string): void;
  /**
   * The agent the global options name: --host over SSH, else the lab's nodes
   * (--via picks one), else the local agent's socket. Connected once per
   * command line and closed by runCli after the command.
   */
  connect(): Promise<AgentClient>;
  /**
   * Another node's agent by its address (HOST[:PORT]): the lab's socket when
   * the lab has a node there, else SSH with the same credentials. The
   * caller closes it.
   */
  connectAddress(address: string): Promise<AgentClient>;
  /** Asks a person to confirm on the terminal; true at once with --yes; E_REFUSED when nobody can answer. */
  confirm(question: string): Promise<boolean>;
  /** Writes part of a streamed result on stdout at once (`events --follow`); the CommandResult then holds what is left. */
  print(text: string): void;
}

/** One parsed command line, before anything runs. */
export interface Invocation {
  /** Command words without `fcm`: ['group', 'move']. */
  path: readonly string[];
  /** Positional arguments, after each ArgSpec's parser. */
  args: readonly unknown[];
  /** The command's own options, keyed by commander's attribute name (`--dry-run` → dryRun). */
  options: Readonly<Record<string, unknown>>;
  globals: GlobalOptions;
}

/** How a value is checked and converted at parse time (see parse.ts). */
export type ValueKind = 'duration' | 'name' | 'names' | 'count';

export interface ArgSpec {
  /** commander syntax: `<group>`, `[key]`, `<settings...>`. */
  syntax: string;
  description: string;
  kind?: ValueKind;
  choices?: readonly string[];
}

export interface OptionSpec {
  /** commander syntax: `--to <node>`, `-f, --file <file>`, `--dry-run`. */
  flags: string;
  description: string;
  kind?: ValueKind;
  choices?: readonly string[];
  defaultValue?: string | number | boolean;
  required?: boolean;
  /** Environment variable read when the option is not given. */
  env?: string;
  /** Attribute names of options that cannot be combined with this one. */
  conflicts?: readonly string[];
}

export type CommandRunner = (invocation: Invocation, context: CommandContext) => Promise<CommandResult>;

export interface CommandSpec {
  name: string;
  summary: string;
  args?: readonly ArgSpec[];
  options?: readonly OptionSpec[];
  /** Shown under "Examples:" in --help; at least one per runnable command. */
  examples?: readonly string[];
  subcommands?: readonly CommandSpec[];
  /** Absent: the command is not built in this version (quorum witnesses, cluster disks, the setup wizard, cluster validate); it fails with E_NOT_IMPLEMENTED. */
  run?: CommandRunner;
}

/** Where the CLI writes; process streams in main.ts, buffers in tests. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  /** Where confirmations are read; absent (the agent running a command line): nobody can answer, --yes is needed. */
  stdin?: Readable & { isTTY?: boolean };
}
