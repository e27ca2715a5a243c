import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMAND_TREE } from '../../src/cli/command-tree.js';
import { FcmError, UsageError, asFcmError } from '../../src/cli/errors.js';
import { EXIT_CODE_BY_ERROR_CODE, EXIT_CODE_MEANINGS, ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js';

// From dist*/test/cli/ to the repository root.
const manPage = readFileSync(new URL('../../../man/fcm.1', import.meta.url), 'utf8');

test('error codes map to exit codes through one table', () => {
  const cases: Array<[string, number]> = [
    ['E_USAGE', 2], ['E_NOT_FOUND', 3], ['E_REFUSED', 4], ['E_CONFLICT', 4], ['E_EXISTS', 4],
    ['E_QUORUM_AT_RISK', 4], ['E_LAST_VOTER', 4], ['E_LAST_ADMIN', 4], ['E_IN_USE', 4], ['E_NOT_OFFLINE', 4], ['E_NODE_PAUSED', 4],
    ['E_NOT_ONLINE', 4], ['E_NOT_POSSIBLE_OWNER', 4], ['E_NO_CANDIDATE', 4], ['E_DEPENDENCY_CYCLE', 4], ['E_DEPENDENCY_OUTSIDE_GROUP', 4],
    ['E_NO_QUORUM', 5], ['E_UNAVAILABLE', 5], ['E_NOT_LEADER', 5], ['E_TIMEOUT', 6],
    ['E_NOT_IMPLEMENTED', 1], ['E_INTERNAL', 1], ['E_ANYTHING_ELSE', 1], ['constructor', 1], ['__proto__', 1],
  ];
  for (const [code, exitCode] of cases) {
    assert.equal(exitCodeFor(code), exitCode, code);
    assert.equal(new FcmError(code, 'x').exitCode, exitCode, code);
  }
});

test('usage errors exit 2 with code E_USAGE', () => {
  const err = new UsageError('bad', 'try this');
  assert.ok(err instanceof FcmError);
  assert.deepEqual([err.code, err.exitCode, err.hint], ['E_USAGE', ExitCode.Usage, 'try this']);
});

test('anything else thrown becomes E_INTERNAL, exit 1', () => {
  const err = asFcmError(new TypeError('x is undefined'));
  assert.deepEqual([err.code, err.exitCode, err.message], ['E_INTERNAL', 1, 'x is undefined']);
  assert.equal(asFcmError('plain string').message, 'plain string');
  const known = new FcmError('E_NOT_FOUND', 'no group web');
  assert.equal(asFcmError(known), known);
});

test('the man page documents exactly the exit codes of the table', () => {
  const section = /^\.SH EXIT STATUS\n([\s\S]*?)^\.SH /m.exec(manPage)?.[1];
  assert.ok(section !== undefined, 'fcm.1 has an EXIT STATUS section');
  const documented = [...section.matchAll(/^\.TP\n\.B (\d+)\n(.+)$/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(documented, EXIT_CODE_MEANINGS.map(([code, meaning]) => [code, meaning]));
});

test('the man page names every error code that has its own exit code', () => {
  const section = /^\.SH EXIT STATUS\n([\s\S]*?)^\.SH /m.exec(manPage)?.[1] ?? '';
  for (const code of EXIT_CODE_BY_ERROR_CODE.keys()) assert.ok(section.includes(code), code);
});

test('the man page describes every top-level command', () => {
  const commands = /^\.SH COMMANDS\n([\s\S]*?)^\.SH /m.exec(manPage)?.[1] ?? '';
  for (const noun of COMMAND_TREE.subcommands ?? []) {
    assert.match(commands, new RegExp(`^\\.B ${noun.name}\\b`, 'm'), noun.name);
  }
  assert.match(manPage, /^\.B FCM_LAB$/m);
});
