// The per-noun man pages against the command table: every verb that runs
// and each of its options is described, and fcm(1) points at every page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMAND_TREE } from '../../src/cli/command-tree.js';

const NOUNS_WITH_PAGES = ['cluster', 'node', 'group', 'resource', 'config', 'events', 'agent', 'lab'];

// From dist*/test/cli/ to the repository root.
const page = (name: string): string => readFileSync(new URL(`../../../man/${name}.1`, import.meta.url), 'utf8');

/** `--state-dir` as groff writes it: `\-\-state\-dir`. */
const groffFlag = (flag: string): string => flag.replace(/-/g, '\\-');

test('each noun\'s page describes every verb that runs, with its options', () => {
  for (const noun of NOUNS_WITH_PAGES) {
    const spec = COMMAND_TREE.subcommands?.find((s) => s.name === noun);
    assert.ok(spec !== undefined, noun);
    const text = page(`fcm-${noun}`);
    assert.match(text, new RegExp(`^\\.TH FCM-${noun.toUpperCase()} 1 `, 'm'));
    if (spec.subcommands === undefined) {
      // A noun that is itself a command (fcm events): its options are in OPTIONS.
      const options = /^\.SH OPTIONS\n([\s\S]*?)^\.SH /m.exec(text)?.[1] ?? '';
      for (const option of spec.options ?? []) assert.ok(options.includes(groffFlag(/--[\w-]+/.exec(option.flags)?.[0] ?? '')), `fcm-${noun}.1 describes ${option.flags}`);
      continue;
    }
    const commands = /^\.SH COMMANDS\n([\s\S]*?)^\.SH /m.exec(text)?.[1] ?? '';
    for (const verb of spec.subcommands) {
      if (verb.run === undefined) continue;
      assert.match(commands, new RegExp(`^\\.(B|BI|BR) ${verb.name}\\b`, 'm'), `fcm-${noun}.1 describes ${verb.name}`);
      for (const option of verb.options ?? []) {
        const long = /--[\w-]+/.exec(option.flags)?.[0] ?? '';
        assert.ok(commands.includes(groffFlag(long)), `fcm-${noun}.1 describes ${verb.name} ${long}`);
      }
      for (const example of verb.examples ?? []) assert.ok(example.startsWith('fcm '), example);
    }
  }
});

test('fcm(1) points at every per-noun page', () => {
  const seeAlso = /^\.SH SEE ALSO\n([\s\S]*)$/m.exec(page('fcm'))?.[1] ?? '';
  for (const noun of NOUNS_WITH_PAGES) assert.match(seeAlso, new RegExp(`^\\.BR fcm\\\\-${noun} \\(1\\)`, 'm'), noun);
});
