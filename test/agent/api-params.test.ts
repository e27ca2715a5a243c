// Table-driven checks of the pieces that judge input before anything runs:
// API request params and the command lines admins send over SSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest } from '../../src/agent/node/api-params.js';
import { AgentError } from '../../src/agent/node/agent-error.js';
import { splitWords } from '../../src/agent/types/command-line.js';

const codeOf = (method: string, params: unknown): string => {
  try {
    checkRequest(method, params);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AgentError);
    return err.code;
  }
};

test('request params: every method checks names, types and required fields', () => {
  const cases: [string, unknown, string][] = [
    ['agent.identity', {}, 'ok'],
    ['agent.identity', { x: 1 }, 'E_INVALID_PARAMS'],
    ['agent.identiy', {}, 'E_UNKNOWN_METHOD'],
    ['constructor', {}, 'E_UNKNOWN_METHOD'],
    ['cluster.create', { name: 'prod' }, 'ok'],
    ['cluster.create', {}, 'E_INVALID_PARAMS'],
    ['cluster.create', [], 'E_INVALID_PARAMS'],
    ['cluster.join', { clusterId: 'c', clusterName: 'n', members: [] }, 'E_INVALID_PARAMS'],
    ['cluster.join', { clusterId: 'c', clusterName: 'n', members: [{ nodeId: 'a', name: 'a', incarnation: 'i', publicKey: 'k', address: 'h:1' }] }, 'ok'],
    ['node.show', { node: 'n1' }, 'ok'],
    ['node.show', { node: '' }, 'E_INVALID_PARAMS'],
    ['node.resume', { node: 'n1', failback: 'later' }, 'E_INVALID_PARAMS'],
    ['config.set', { values: {} }, 'E_INVALID_PARAMS'],
    ['config.set', { values: { historyLimit: { deep: 1 } } }, 'E_INVALID_PARAMS'],
    ['config.set', { values: { historyLimit: '10', nodeLease: null }, force: true }, 'ok'],
    ['config.history', { limit: 0 }, 'E_INVALID_PARAMS'],
    ['config.history', { limit: 5, sinceIndex: 0, type: 'node' }, 'ok'],
  ];
  for (const [method, params, code] of cases) assert.equal(codeOf(method, params), code, `${method} ${JSON.stringify(params)}`);
});

test('every problem of a request is named in one error', () => {
  try {
    checkRequest('node.pause', { drain: 'yes', extra: 1 });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof AgentError);
    assert.match(err.message, /unknown param extra/);
    assert.match(err.message, /node is required/);
    assert.match(err.message, /drain must be true or false/);
  }
});

test('command lines split as a shell splits plain words', () => {
  const cases: [string, string[] | null][] = [
    ['status --json', ['status', '--json']],
    ['  node   show  n1 ', ['node', 'show', 'n1']],
    ["config set 'a=b c'", ['config', 'set', 'a=b c']],
    ['config set "x=\\"q\\""', ['config', 'set', 'x="q"']],
    ['a\\ b', ['a b']],
    ["it's", null],
    ['"open', null],
    ['', []],
  ];
  for (const [line, words] of cases) assert.deepEqual(splitWords(line), words, line);
});
