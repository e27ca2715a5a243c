// Bad input on the API socket: every kind is answered with a stable code,
// changes nothing, and never takes the agent down. Garbage and a truncated
// line close that connection only; the others fail one request only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AgentStatus } from '../../src/client/api.js';
import { ApiConnection, call, callError, startAgent, stopAgent, tempDir } from './helpers.js';
import type { AgentProcess } from './helpers.js';

test('bad requests get stable error codes, change nothing, and leave the agent serving', async () => {
  const dir = await tempDir('fcm-agent-bad-');
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(join(dir.path, 'n1'), 'n1');
    const socket = agent.socket;

    // Before a cluster exists, cluster methods say so.
    assert.equal((await callError(socket, 'node.list')).code, 'E_NO_CLUSTER');
    assert.equal((await callError(socket, 'cluster.create', { name: 'bad name!' })).code, 'E_INVALID_NAME');
    await call(socket, 'cluster.create', { name: 'c' });
    assert.equal((await callError(socket, 'cluster.create', { name: 'c2' })).code, 'E_CONFLICT');

    const before = await call<AgentStatus>(socket, 'agent.status');
    const historyBefore = await call<unknown[]>(socket, 'config.history');

    // Garbage: answered, then that connection (only) is closed.
    const garbage = await ApiConnection.open(socket);
    garbage.send('this is not json\n');
    assert.equal((await garbage.next()).error?.code, 'E_MALFORMED_REQUEST');
    await garbage.untilClosed();

    // A truncated last line: answered when the client ends its side, then closed.
    const truncated = await ApiConnection.open(socket);
    truncated.send('{"id": 1, "method": "agent.sta');
    truncated.end();
    assert.equal((await truncated.next()).error?.code, 'E_MALFORMED_REQUEST');
    await truncated.untilClosed();

    // On one connection, each bad request fails alone and the next one is served.
    const conn = await ApiConnection.open(socket);
    const unknown = await conn.call('node.lst');
    assert.equal(unknown.error?.code, 'E_UNKNOWN_METHOD');
    assert.match(unknown.error?.hint ?? '', /node\.list/);
    conn.send('[1, 2, 3]\n');
    assert.equal((await conn.next((a) => a.id === null)).error?.code, 'E_MALFORMED_REQUEST');
    conn.send('{"method": "agent.status"}\n');
    assert.equal((await conn.next((a) => a.id === null)).error?.code, 'E_MALFORMED_REQUEST');
    assert.equal((await conn.call('node.show', { node: 5 })).error?.code, 'E_INVALID_PARAMS');
    assert.equal((await conn.call('node.show', {})).error?.code, 'E_INVALID_PARAMS');
    assert.equal((await conn.call('agent.status', { verbose: true })).error?.code, 'E_INVALID_PARAMS');
    assert.equal((await conn.call('config.history', 'all')).error?.code, 'E_INVALID_PARAMS');
    assert.equal((await conn.call('node.show', { node: 'nosuch' })).error?.code, 'E_NOT_FOUND');
    assert.equal((await conn.call('node.pause', { node: 'nosuch' })).error?.code, 'E_NOT_FOUND');
    assert.equal((await conn.call('node.add', { identity: { nodeId: 'x' } })).error?.code, 'E_INVALID_PARAMS');
    const badValue = await conn.call('config.set', { values: { historyLimit: 'lots' } });
    assert.equal(badValue.error?.code, 'E_INVALID_VALUE');
    assert.equal(badValue.error?.reports?.[0]?.field, 'values.historyLimit');
    const unknownKey = await conn.call('config.set', { values: { heartbeatIntervl: '50ms', historyLimit: 'x' } });
    assert.equal(unknownKey.error?.code, 'E_UNKNOWN_PROPERTY');
    assert.match(unknownKey.error?.hint ?? '', /heartbeatInterval/);
    assert.deepEqual(unknownKey.error?.reports?.map((r) => r.code).sort(), ['E_INVALID_VALUE', 'E_UNKNOWN_PROPERTY']);
    assert.equal((await conn.call('config.get', { key: 'nodeLeas' })).error?.code, 'E_UNKNOWN_PROPERTY');
    assert.equal((await conn.call('config.set', { values: { nodeLease: '200ms' } })).error?.code, 'E_UNSAFE_TIMING');
    // Pipelined: two requests in one write, two answers.
    conn.send(`${JSON.stringify({ id: 101, method: 'agent.identity' })}\n${JSON.stringify({ id: 102, method: 'node.list' })}\n`);
    assert.ok((await conn.next((a) => a.id === 101)).result);
    assert.ok((await conn.next((a) => a.id === 102)).result);
    assert.equal(conn.closed, false);
    conn.close();

    // Nothing changed: no entry was proposed, the history is the same.
    const after = await call<AgentStatus>(socket, 'agent.status');
    assert.equal(after.commitIndex, before.commitIndex);
    assert.deepEqual(await call<unknown[]>(socket, 'config.history'), historyBefore);
    assert.equal(agent.child.exitCode, null, 'the agent is still running');
  } finally {
    if (agent) await stopAgent(agent, 'SIGKILL');
    await dir.remove();
  }
});
