// The parsing layer, table-driven: argv → the Invocation a command would
// receive. Nothing runs; parseArgv only records what was asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CommandSpec, GlobalOptions, Invocation } from '../../src/cli/command-spec.js';
import { COMMAND_TREE } from '../../src/cli/command-tree.js';
import { UsageError } from '../../src/cli/errors.js';
import { parseArgv } from '../../src/cli/program.js';

const DEFAULT_GLOBALS: GlobalOptions = {
  json: false, host: undefined, lab: undefined, via: undefined, identity: undefined, timeoutMs: undefined,
  wait: true, yes: false, force: false, quiet: false, verbose: false,
};

function parse(argv: string[]): { invocation: Invocation | undefined; out: string; err: string } {
  let out = '';
  let err = '';
  const parsed = parseArgv(argv, COMMAND_TREE, { writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  return { invocation: parsed.kind === 'run' ? parsed.invocation : undefined, out, err };
}

interface Case {
  argv: string[];
  path: string[];
  args?: unknown[];
  options?: Record<string, unknown>;
  globals?: Partial<GlobalOptions>;
}

const CASES: Case[] = [
  { argv: ['status'], path: ['status'], args: [], options: {} },
  { argv: ['--json', 'group', 'list'], path: ['group', 'list'], globals: { json: true } },
  { argv: ['group', 'list', '--json'], path: ['group', 'list'], globals: { json: true } },
  { argv: ['group', '--json', 'list'], path: ['group', 'list'], globals: { json: true } },
  { argv: ['--host', 'admin@10.0.0.1:2222', 'node', 'list'], path: ['node', 'list'], globals: { host: 'admin@10.0.0.1:2222' } },
  { argv: ['--cluster', 'n1', 'node', 'list'], path: ['node', 'list'], globals: { host: 'n1' } },
  { argv: ['--lab', '/tmp/lab1', 'lab', 'status'], path: ['lab', 'status'], globals: { lab: '/tmp/lab1' } },
  { argv: ['--via', 'node3', '--identity', '/k/id', 'status'], path: ['status'], globals: { via: 'node3', identity: '/k/id' } },
  { argv: ['--yes', '--force', '-q', 'cluster', 'destroy'], path: ['cluster', 'destroy'], globals: { yes: true, force: true, quiet: true } },
  { argv: ['status', '-v'], path: ['status'], globals: { verbose: true } },
  {
    argv: ['group', 'move', 'web', '--to', 'node2', '--timeout', '2m', '--no-wait'],
    path: ['group', 'move'], args: ['web'], options: { to: 'node2' }, globals: { timeoutMs: 120_000, wait: false },
  },
  {
    argv: ['cluster', 'create', 'prod', '--node', '10.0.0.1', '--node', '10.0.0.2:2222', '--witness', 'disk:/dev/sdb'],
    path: ['cluster', 'create'], args: ['prod'], options: { node: ['10.0.0.1', '10.0.0.2:2222'], witness: 'disk:/dev/sdb' },
  },
  { argv: ['cluster', 'create', 'prod', '--node', 'a', 'b'], path: ['cluster', 'create'], args: ['prod'], options: { node: ['a', 'b'] } },
  { argv: ['cluster', 'log', '--since', '10m', '--node', 'n2'], path: ['cluster', 'log'], options: { since: 600_000, node: 'n2' } },
  { argv: ['cluster', 'apply', '-f', 'c.json', '--dry-run'], path: ['cluster', 'apply'], options: { file: 'c.json', dryRun: true } },
  { argv: ['cluster', 'export'], path: ['cluster', 'export'], options: {} },
  { argv: ['node', 'resume', 'n1', '--failback', 'now'], path: ['node', 'resume'], args: ['n1'], options: { failback: 'now' } },
  { argv: ['node', 'pause', 'n1', '--drain', '--force'], path: ['node', 'pause'], args: ['n1'], options: { drain: true }, globals: { force: true } },
  { argv: ['group', 'create', 'web', '--preferred', 'n1,n2'], path: ['group', 'create'], args: ['web', []], options: { preferred: ['n1', 'n2'] } },
  { argv: ['group', 'create', 'web', 'priority=5'], path: ['group', 'create'], args: ['web', ['priority=5']] },
  { argv: ['resource', 'list', '--group', 'web'], path: ['resource', 'list'], options: { group: 'web' } },
  { argv: ['resource', 'create', 'd', '--group', 'web', '--type', 'ocf:heartbeat:Dummy'], path: ['resource', 'create'], args: ['d', []], options: { group: 'web', type: 'ocf:heartbeat:Dummy' } },
  { argv: ['group', 'set', 'web', 'failback=never', 'a=b'], path: ['group', 'set'], args: ['web', ['failback=never', 'a=b']] },
  {
    argv: ['resource', 'create', 'ip1', '--group', 'web', '--type', 'ip', 'address=10.0.0.100/24'],
    path: ['resource', 'create'], args: ['ip1', ['address=10.0.0.100/24']], options: { group: 'web', type: 'ip' },
  },
  { argv: ['resource', 'depend', 'app', '--on', 'ip and (d1 or d2)'], path: ['resource', 'depend'], args: ['app'], options: { on: 'ip and (d1 or d2)' } },
  { argv: ['quorum', 'set', '--mode', 'node-majority'], path: ['quorum', 'set'], options: { mode: 'node-majority' } },
  { argv: ['config', 'get'], path: ['config', 'get'], args: [undefined] },
  { argv: ['config', 'history', '--limit', '20'], path: ['config', 'history'], options: { limit: 20 } },
  { argv: ['events', '--follow'], path: ['events'], options: { follow: true } },
  { argv: ['agent', 'run', '--state-dir', '/var/lib/fcm'], path: ['agent', 'run'], options: { stateDir: '/var/lib/fcm', logFormat: 'text' } },
  { argv: ['lab', 'up'], path: ['lab', 'up'], options: { nodes: 3 } },
  { argv: ['lab', 'up', '--nodes', '5', '--dir', '/tmp/l'], path: ['lab', 'up'], options: { nodes: 5, dir: '/tmp/l' } },
  { argv: ['completion', 'zsh'], path: ['completion'], args: ['zsh'] },
  // After `--`, words are arguments even when they look like options.
  { argv: ['config', 'get', '--', '--json'], path: ['config', 'get'], args: ['--json'], globals: { json: false } },
];

test('argv → command path, arguments, options and global options', () => {
  for (const c of CASES) {
    const label = c.argv.join(' ');
    const { invocation } = parse(c.argv);
    assert.ok(invocation !== undefined, label);
    assert.deepEqual(invocation.path, c.path, label);
    if (c.args !== undefined) assert.deepEqual(invocation.args, c.args, label);
    if (c.options !== undefined) assert.deepEqual({ ...invocation.options }, c.options, label);
    assert.deepEqual(invocation.globals, { ...DEFAULT_GLOBALS, ...c.globals }, label);
  }
});

test('--lab defaults to $FCM_LAB', () => {
  const saved = process.env.FCM_LAB;
  process.env.FCM_LAB = '/tmp/from-env';
  try {
    assert.equal(parse(['lab', 'status']).invocation?.globals.lab, '/tmp/from-env');
    assert.equal(parse(['--lab', '/tmp/given', 'lab', 'status']).invocation?.globals.lab, '/tmp/given');
  } finally {
    if (saved === undefined) delete process.env.FCM_LAB;
    else process.env.FCM_LAB = saved;
  }
});

// Each bad command line, and a word the message must name.
const USAGE_ERRORS: Array<[string[], string]> = [
  [[], 'fcm'],
  [['nosuchnoun'], 'nosuchnoun'],
  [['group'], 'fcm group'],
  [['group', 'frob'], 'frob'],
  [['group', 'list', '--frob'], '--frob'],
  [['--frob', 'status'], '--frob'],
  [['group', 'show'], 'group'],
  [['group', 'show', 'a', 'b'], 'too many'],
  [['group', 'show', 'bad name'], 'bad name'],
  [['group', 'move', 'web', '--to'], '--to'],
  [['group', 'move', 'web', '--to', 'n!'], '--to'],
  [['group', 'create', 'web', '--preferred', 'a,b!'], 'b!'],
  [['--timeout', '5', 'status'], '--timeout'],
  [['--via', 'x y', 'status'], '--via'],
  [['-q', '-v', 'status'], '--verbose'],
  [['cluster', 'create', 'bad name'], 'bad name'],
  [['resource', 'create', 'r1', '--group', 'g'], '--type'],
  [['quorum', 'set', '--mode', 'bogus'], 'bogus'],
  [['node', 'resume', 'n1', '--failback', 'later'], 'later'],
  [['lab', 'up', '--nodes', '0'], '--nodes'],
  [['completion', 'fish'], 'fish'],
];

test('bad command lines are usage errors (exit 2) naming what is wrong', () => {
  for (const [argv, named] of USAGE_ERRORS) {
    const label = argv.join(' ');
    assert.throws(() => parse(argv), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${label}: ${String(err)}`);
      assert.equal(err.exitCode, 2, label);
      assert.ok(err.message.includes(named), `${label}: '${err.message}' names ${named}`);
      assert.doesNotMatch(err.message, /^error:/, 'the handler adds the prefix, not the message');
      return true;
    });
  }
});

test('a misspelt command gets a suggestion', () => {
  assert.throws(() => parse(['grup', 'list']), (err: unknown) => err instanceof UsageError && /did you mean group\?/.test(err.hint ?? ''));
});

function* allCommands(spec: CommandSpec, path: string[] = []): Generator<[string[], CommandSpec]> {
  yield [path, spec];
  for (const sub of spec.subcommands ?? []) yield* allCommands(sub, [...path, sub.name]);
}

test('every command and noun has --help with at least one example', () => {
  for (const [path] of allCommands(COMMAND_TREE)) {
    const { invocation, out, err } = parse([...path, '--help']);
    const label = ['fcm', ...path].join(' ');
    assert.equal(invocation, undefined, label);
    assert.equal(err, '', label);
    assert.ok(out.startsWith(`Usage: ${label}`), `${label}: ${out.slice(0, 40)}`);
    assert.match(out, /\nExamples:\n {2}\$ .*fcm /, label);
  }
});

/** The fcm words of a shell example: no pipes, redirections or `source <(...)`. */
function argvOf(example: string): string[] {
  const tokens = example.match(/"[^"]*"|\S+/g) ?? [];
  const start = tokens.findIndex((t) => /^(<\()?fcm$/.test(t));
  const rest = tokens.slice(start + 1);
  const end = rest.findIndex((t) => t === '|' || t === '>');
  return (end === -1 ? rest : rest.slice(0, end)).map((t) => t.replace(/^"(.*)"$/, '$1').replace(/^([^"]*)\)$/, '$1'));
}

test('every example in the table parses, to its own command', () => {
  for (const [path, spec] of allCommands(COMMAND_TREE)) {
    for (const example of spec.examples ?? []) {
      const invocation = parse(argvOf(example)).invocation;
      assert.ok(invocation !== undefined, example);
      // The root's examples show other commands.
      if (path.length > 0) assert.deepEqual(invocation.path, path, example);
    }
  }
});

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const { invocation, out } = parse(['--version']);
  assert.equal(invocation, undefined);
  assert.equal(out, `${pkg.version}\n`);
});
