// The one place argv is parsed: the command table (command-tree.ts) becomes
// a commander program, and a command line becomes an Invocation, or a usage
// error. Nothing runs here; run.ts decides what to do with the result.
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import type { ArgSpec, CommandSpec, GlobalOptions, Invocation, OptionSpec, ValueKind } from './command-spec.js';
import { UsageError } from './errors.js';
import { parseCount, parseDuration, parseName, parseNames } from './parse.js';

/** Where commander writes help: stdout for --help, stderr for help after a usage error. */
export interface HelpOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

export type ParsedArgv =
  | { kind: 'run'; spec: CommandSpec; invocation: Invocation }
  /** Help or the version was printed; nothing to run. */
  | { kind: 'shown' };

/** argv without `node` and the script: `['group', 'move', 'web', '--to', 'node2']`. */
export function parseArgv(argv: readonly string[], tree: CommandSpec, output: HelpOutput): ParsedArgv {
  let parsed: ParsedArgv = { kind: 'shown' };
  const root = new Command(tree.name)
    .version(readVersion(), '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureHelp({ showGlobalOptions: true })
    // Errors are printed by run.ts (human or JSON), never by commander.
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => {} });
  define(root, tree, [tree.name], (spec, command, path) => {
    const invocation = { path: path.slice(1), args: command.processedArgs, options: command.opts(), globals: globalsFrom(root.opts()) };
    parsed = { kind: 'run', spec, invocation };
  });
  try {
    root.parse(argv, { from: 'user' });
  } catch (thrown) {
    if (thrown instanceof CommanderError && thrown.exitCode === 0) return { kind: 'shown' };
    throw thrown;
  }
  return parsed;
}

type OnLeaf = (spec: CommandSpec, command: Command, path: readonly string[]) => void;

function define(command: Command, spec: CommandSpec, path: readonly string[], onLeaf: OnLeaf): void {
  const built = spec.run !== undefined || spec.subcommands !== undefined;
  command.description(built ? spec.summary : `${spec.summary} (not built yet)`).exitOverride((err) => {
    throw usageErrorFrom(err, path);
  });
  for (const arg of spec.args ?? []) command.addArgument(argumentFrom(arg));
  for (const option of spec.options ?? []) command.addOption(optionFrom(option));
  // A noun's help shows the first example of each verb.
  const examples = spec.examples ?? (spec.subcommands ?? []).flatMap((sub) => sub.examples?.slice(0, 1) ?? []);
  if (examples.length > 0) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
  if (spec.subcommands === undefined) {
    command.action(() => onLeaf(spec, command, path));
    return;
  }
  for (const sub of spec.subcommands) define(command.command(sub.name), sub, [...path, sub.name], onLeaf);
}

function usageErrorFrom(err: CommanderError, path: readonly string[]): Error {
  if (err.exitCode === 0) return err; // help or version was shown
  const where = path.join(' ');
  const seeHelp = `run '${where} --help'`;
  // Commander printed this command's help to stderr because no verb was given.
  if (err.code === 'commander.help') return new UsageError(`'${where}' needs a command`, seeHelp);
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = /Did you mean (.+)\?/.exec(rest.join(' '))?.[1];
  return new UsageError(first, suggestion === undefined ? seeHelp : `did you mean ${suggestion}? ${seeHelp}`);
}

function argumentFrom(spec: ArgSpec): Argument {
  const argument = new Argument(spec.syntax, spec.description);
  if (spec.choices !== undefined) argument.choices(spec.choices);
  else if (spec.kind !== undefined) argument.argParser(parserFor(spec.kind, argument.name(), '', argument.variadic));
  return argument;
}

function optionFrom(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.choices !== undefined) option.choices(spec.choices);
  else if (spec.kind !== undefined) {
    const placeholder = /<(\w+)/.exec(spec.flags)?.[1] ?? 'value';
    option.argParser(parserFor(spec.kind, placeholder, `option '${option.long ?? option.flags}': `, option.variadic));
  }
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  if (spec.required === true) option.makeOptionMandatory();
  if (spec.env !== undefined) option.env(spec.env);
  if (spec.conflicts !== undefined) option.conflicts([...spec.conflicts]);
  return option;
}

type ValueParser = (text: string, previous: unknown) => unknown;

/** @param what what a name names (`node`, `group`), @param label prefix naming the option */
function parserFor(kind: ValueKind, what: string, label: string, variadic: boolean): ValueParser {
  const parseOne = (text: string): unknown => {
    try {
      switch (kind) {
        case 'duration': return parseDuration(text);
        case 'name': return parseName(text, what);
        case 'names': return parseNames(text);
        case 'count': return parseCount(text, what);
      }
    } catch (err) {
      if (err instanceof UsageError && label !== '') throw new UsageError(label + err.message, err.hint);
      throw err;
    }
  };
  // Commander leaves accumulating repeated values to a custom parser.
  return variadic
    ? (text, previous) => [...(Array.isArray(previous) ? previous : []), parseOne(text)]
    : (text) => parseOne(text);
}

function globalsFrom(o: Record<string, unknown>): GlobalOptions {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    json: o.json === true,
    host: text(o.host),
    lab: text(o.lab),
    via: text(o.via),
    identity: text(o.identity),
    timeoutMs: typeof o.timeout === 'number' ? o.timeout : undefined,
    wait: o.wait !== false,
    yes: o.yes === true,
    force: o.force === true,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
  };
}

function readVersion(): string {
  // From dist*/src/cli/program.js, the package root is three levels up.
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Fall through: an unreadable package.json must not break every command.
  }
  return 'unknown';
}
