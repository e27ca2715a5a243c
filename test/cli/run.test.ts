// runCli end to end inside the test process: what lands on stdout and
// stderr, and the exit code, for results and for every kind of error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandSpec } from '../../src/cli/command-spec.js';
import { COMMAND_TREE } from '../../src/cli/command-tree.js';
import { FcmError } from '../../src/cli/errors.js';
import { notBuiltMessage, runCli } from '../../src/cli/run.js';
import { captureIo } from './capture.js';

async function run(argv: string[], tree?: CommandSpec) {
  const { io, stdout, stderr } = captureIo();
  const exitCode = await runCli(argv, io, tree);
  return { exitCode, out: stdout.text, err: stderr.text };
}

test('--json usage errors: one JSON error document on stdout, exit 2', async () => {
  const { exitCode, out, err } = await run(['--json', 'nosuchnoun']);
  assert.equal(exitCode, 2);
  assert.equal(err, '');
  const doc = JSON.parse(out) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.deepEqual(Object.keys(doc.error), ['code', 'message', 'hint']);
  assert.equal(doc.error.code, 'E_USAGE');
  assert.equal(typeof doc.error.message, 'string');
  assert.equal(typeof doc.error.hint, 'string');
  assert.ok(out.startsWith('{\n  "error"'), 'indented with 2 spaces');
});

test('--json anywhere on the line, even with a parse error before it', async () => {
  for (const argv of [['group', 'list', '--frob', '--json'], ['--json', 'group'], ['--timeout', '5', '--json', 'status']]) {
    const { exitCode, out, err } = await run(argv);
    assert.equal(exitCode, 2, argv.join(' '));
    assert.equal(err, '', `${argv.join(' ')}: no help text or messages on stderr in JSON mode`);
    assert.equal((JSON.parse(out) as { error: { code: string } }).error.code, 'E_USAGE');
  }
});

test('human usage errors: error and hint lines on stderr, nothing on stdout', async () => {
  const { exitCode, out, err } = await run(['nosuchnoun']);
  assert.equal(exitCode, 2);
  assert.equal(out, '');
  assert.match(err, /^error: .*nosuchnoun.*\nhint: .*fcm --help.*\n$/);
});

test('a noun without a verb shows its help on stderr, exit 2', async () => {
  const { exitCode, out, err } = await run(['group']);
  assert.equal(exitCode, 2);
  assert.equal(out, '');
  assert.match(err, /Usage: fcm group/);
  assert.match(err, /error: 'fcm group' needs a command\n/);
});

test('--help goes to stdout, exit 0', async () => {
  const { exitCode, out, err } = await run(['--help']);
  assert.equal(exitCode, 0);
  assert.equal(err, '');
  assert.match(out, /^Usage: fcm /);
  for (const noun of COMMAND_TREE.subcommands ?? []) assert.match(out, new RegExp(`\\n {2}${noun.name}\\b`), noun.name);
});

/** A minimal valid command line for a leaf command, filling required arguments and options. */
function minimalArgv(path: readonly string[], spec: CommandSpec): string[] {
  const sample = (kind: string | undefined, choices: readonly string[] | undefined): string =>
    choices?.[0] ?? (kind === 'count' ? '2' : kind === 'duration' ? '5s' : 'web');
  const args = (spec.args ?? []).filter((a) => a.syntax.startsWith('<')).map((a) => sample(a.kind, a.choices));
  const options = (spec.options ?? []).filter((o) => o.required === true).flatMap((o) => {
    const long = /--[\w-]+/.exec(o.flags)?.[0] ?? '';
    return [long, sample(o.kind, o.choices)];
  });
  return [...path, ...args, ...options];
}

function* leaves(spec: CommandSpec, path: string[] = []): Generator<[string[], CommandSpec]> {
  if (spec.subcommands === undefined) yield [path, spec];
  for (const sub of spec.subcommands ?? []) yield* leaves(sub, [...path, sub.name]);
}

test('every command not built yet fails with E_NOT_IMPLEMENTED, exit 1, and its help says so', async () => {
  let notBuilt = 0;
  for (const [path, spec] of leaves(COMMAND_TREE)) {
    if (spec.run !== undefined) continue;
    notBuilt += 1;
    const argv = ['--json', ...minimalArgv(path, spec)];
    const { exitCode, out } = await run(argv);
    const doc = JSON.parse(out) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'E_NOT_IMPLEMENTED', argv.join(' '));
    assert.equal(doc.error.message, notBuiltMessage(path));
    assert.equal(exitCode, 1);
    const parentHelp = await run([...path.slice(0, -1), '--help']);
    const commands = parentHelp.out.replace(/\s+/g, ' ').split(' Commands: ')[1] ?? '';
    assert.ok(commands.includes(`${spec.summary} (not built yet)`), path.join(' '));
  }
  assert.ok(notBuilt > 0, 'the table registers commands not built yet');
  const help = await run(['node', '--help']);
  assert.doesNotMatch(help.out, /not built/, 'built commands are not marked');
});

test('fcm completion works now, in human and JSON mode', async () => {
  const human = await run(['completion', 'bash']);
  assert.equal(human.exitCode, 0);
  assert.match(human.out, /\ncomplete -F _fcm fcm\n$/);
  const json = await run(['completion', 'zsh', '--json']);
  const doc = JSON.parse(json.out) as { shell: string; script: string };
  assert.equal(doc.shell, 'zsh');
  assert.match(doc.script, /^#compdef fcm\n/);
});

// Commands made for these tests, under the real global options.
const probe = { calls: 0 };
const TEST_TREE: CommandSpec = {
  ...COMMAND_TREE,
  subcommands: [
    {
      name: 'report', summary: 'returns a result', examples: ['fcm report'],
      run: async (_invocation, context) => {
        context.warn('disk1 is nearly full');
        const answer = await context.spin('waiting', async () => 42);
        return {
          data: { answer },
          text: () => {
            probe.calls += 1;
            return `answer ${answer}`;
          },
        };
      },
    },
    { name: 'partial', summary: 'reports its own exit code', run: async () => ({ data: [], text: '', exitCode: 4 }) },
    { name: 'missing', summary: 'throws a library error', run: async () => { throw new FcmError('E_NOT_FOUND', 'no group web', 'see fcm group list'); } },
    { name: 'buggy', summary: 'throws a bug', run: async () => { throw new TypeError('cannot read x of undefined'); } },
  ],
};

test('results: text in human mode, data in JSON mode; warnings on stderr unless -q', async () => {
  probe.calls = 0;
  const human = await run(['report'], TEST_TREE);
  assert.deepEqual([human.exitCode, human.out, human.err], [0, 'answer 42\n', 'warning: disk1 is nearly full\n']);
  const json = await run(['report', '--json'], TEST_TREE);
  assert.deepEqual(JSON.parse(json.out), { answer: 42 });
  assert.equal(probe.calls, 1, 'the text rendering is not built in JSON mode');
  const quiet = await run(['report', '-q'], TEST_TREE);
  assert.deepEqual([quiet.out, quiet.err], ['answer 42\n', '']);
});

test('a command sets its exit code through its result', async () => {
  const { exitCode, out } = await run(['partial'], TEST_TREE);
  assert.deepEqual([exitCode, out], [4, '']);
});

test('library errors map through the exit code table', async () => {
  const human = await run(['missing'], TEST_TREE);
  assert.deepEqual([human.exitCode, human.out, human.err], [3, '', 'error: no group web\nhint: see fcm group list\n']);
  const json = await run(['missing', '--json'], TEST_TREE);
  assert.deepEqual(JSON.parse(json.out), { error: { code: 'E_NOT_FOUND', message: 'no group web', hint: 'see fcm group list' } });
});

test('bugs are E_INTERNAL, exit 1, with the stack only under -v', async () => {
  const plain = await run(['buggy'], TEST_TREE);
  assert.equal(plain.exitCode, 1);
  assert.match(plain.err, /^error: cannot read x of undefined\nhint: .*-v.*\n$/);
  const verbose = await run(['buggy', '-v'], TEST_TREE);
  assert.match(verbose.err, /\nTypeError: cannot read x of undefined\n\s+at /);
});
