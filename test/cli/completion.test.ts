// The generated completion scripts, run in the real shells: bash always,
// zsh when installed (its completion system is replaced by stubs that
// print what would be offered).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionScript, shellFrom } from '../../src/cli/commands/completion.js';
import { COMMAND_TREE } from '../../src/cli/command-tree.js';
import { UsageError } from '../../src/cli/errors.js';

const NOUNS = (COMMAND_TREE.subcommands ?? []).map((s) => s.name).sort();

// Words typed so far (the last one is being completed) → what is offered.
const CASES: Array<[string[], string[]]> = [
  [['gr'], ['group']],
  [[''], NOUNS],
  [['group', ''], ['cleanup', 'create', 'delete', 'list', 'move', 'offline', 'online', 'set', 'show']],
  [['--host', 'admin@h1', 'group', 'mo'], ['move']],
  [['-q', 'lab', 'u'], ['up']],
  [['group', 'move', 'web', '--t'], ['--timeout', '--to']],
  [['--ver'], ['--verbose', '--version']],
  [['completion', ''], ['bash', 'zsh']],
  [['group', 'show', 'web', ''], []],
];

function withTempDir<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'fcm-completion-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function scriptOf(shell: 'bash' | 'zsh'): string {
  const { text } = completionScript({ shell, tree: COMMAND_TREE });
  return typeof text === 'string' ? text : text();
}

/** Runs `driver` in `shell` with the script at $1; one output line per case. */
function offered(shell: 'bash' | 'zsh', driver: string): string[][] {
  return withTempDir((dir) => {
    const scriptPath = join(dir, `fcm.${shell}`);
    writeFileSync(scriptPath, scriptOf(shell));
    const result = spawnSync(shell, ['-c', driver, shell, scriptPath], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    return result.stdout.split('\n').slice(0, CASES.length).map((line) => line.split(' ').filter((w) => w !== '').sort());
  });
}

const quoteWords = (words: string[]): string => words.map((w) => `'${w}'`).join(' ');

test('bash completes nouns, verbs, choices and options', () => {
  const calls = CASES.map(([typed]) => `offer fcm ${quoteWords(typed)}`).join('\n');
  const driver = `source "$1"
offer() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _fcm; echo "\${COMPREPLY[*]}"; }
${calls}`;
  assert.deepEqual(offered('bash', driver), CASES.map(([, expected]) => expected));
});

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

test('zsh completes nouns, verbs, choices and options', { skip: hasZsh ? false : 'zsh is not installed' }, () => {
  const calls = CASES.map(([typed]) => {
    const current = typed[typed.length - 1] ?? '';
    return `offer '${current}' fcm ${quoteWords(typed)}`;
  }).join('\n');
  // Like zsh's own, the stubs offer only the candidates that start with $PREFIX.
  const driver = `compdef() { :; }
offer_matching() { local -a items; items=("$@"); items=("\${(@M)items:#\${PREFIX}*}"); print -r -- "\${(j: :)items}"; }
_describe() { local -a items; items=("\${(@P)4}"); offer_matching "\${(@)items%%:*}"; }
compadd() { shift; offer_matching "$@"; }
source "$1"
offer() { PREFIX=$1; shift; words=("$@"); CURRENT=$#; _fcm; }
${calls}`;
  assert.deepEqual(offered('zsh', driver), CASES.map(([, expected]) => expected));
});

test('only bash and zsh have scripts', () => {
  assert.equal(shellFrom('bash'), 'bash');
  assert.throws(() => shellFrom('fish'), UsageError);
});
