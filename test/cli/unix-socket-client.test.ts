// The Unix socket client against a server speaking the contract on a real
// socket: pipelining, error bodies, timeouts, a vanishing agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiCallError } from '../../src/client/agent-client.js';
import { UnixSocketClient } from '../../src/client/unix-socket-client.js';
import { delay, startTestAgent } from './test-agent.js';

async function withDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-client-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const isCode = (code: string) => (err: unknown) => err instanceof ApiCallError && err.code === code;

test('pipelined calls are matched to their answers by id, whatever order they come back in', async () => {
  await withDir(async (dir) => {
    const agent = await startTestAgent(join(dir, 'a.sock'), {
      'node.show': async (params) => {
        // The first call answers last.
        await delay(params.node === 'node1' ? 60 : 5);
        return { name: params.node };
      },
    });
    const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 5000 });
    try {
      const names = ['node1', 'node2', 'node3'];
      const answers = await Promise.all(names.map((node) => client.call('node.show', { node })));
      assert.deepEqual(answers.map((a) => a.name), names);
      assert.deepEqual(agent.requests.map((r) => r.id), [1, 2, 3]);
      assert.deepEqual(agent.requests[0], { id: 1, method: 'node.show', params: { node: 'node1' } });
    } finally {
      await client.close();
      await agent.close();
    }
  });
});

test('an error answer rejects that call only, with the code, hint and reports', async () => {
  await withDir(async (dir) => {
    const reports = [{ code: 'E_UNKNOWN_PROPERTY', severity: 'error', message: 'there is no cluster property "hartbeat"', hint: "did you mean 'heartbeatInterval'?" }];
    const agent = await startTestAgent(join(dir, 'a.sock'), {
      'config.set': () => Promise.reject({ code: 'E_UNKNOWN_PROPERTY', message: 'refused', hint: 'h', reports }),
      'agent.identity': async () => ({ name: 'node1' }),
    });
    const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 5000 });
    try {
      await assert.rejects(client.call('config.set', { values: { hartbeat: '1s' } }), (err: unknown) => {
        assert.ok(err instanceof ApiCallError);
        assert.deepEqual([err.code, err.message, err.hint, err.reports], ['E_UNKNOWN_PROPERTY', 'refused', 'h', reports]);
        return true;
      });
      assert.equal((await client.call('agent.identity', {})).name, 'node1');
    } finally {
      await client.close();
      await agent.close();
    }
  });
});

test('a call without an answer times out with E_TIMEOUT; the connection stays usable and a late answer is dropped', async () => {
  await withDir(async (dir) => {
    const agent = await startTestAgent(join(dir, 'a.sock'), {
      'cluster.status': async () => {
        await delay(300);
        return { late: true };
      },
      'agent.identity': async () => ({ name: 'node1' }),
    });
    const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 100 });
    try {
      await assert.rejects(client.call('cluster.status', {}), isCode('E_TIMEOUT'));
      await delay(300);
      assert.equal((await client.call('agent.identity', {})).name, 'node1');
    } finally {
      await client.close();
      await agent.close();
    }
  });
});

test('no socket, or nobody listening: E_UNAVAILABLE with a hint', async () => {
  await withDir(async (dir) => {
    await assert.rejects(UnixSocketClient.connect(join(dir, 'none.sock'), { callTimeoutMs: 1000 }), (err: unknown) =>
      isCode('E_UNAVAILABLE')(err) && /no agent socket/.test((err as Error).message) && /fcm agent run/.test((err as ApiCallError).hint ?? ''));
    // Nobody listens: connect(2) is refused (a plain file stands in for a dead agent's socket file).
    const path = join(dir, 'dead.sock');
    await writeFile(path, '');
    await assert.rejects(UnixSocketClient.connect(path, { callTimeoutMs: 1000, unavailableHint: 'try the lab' }), (err: unknown) =>
      isCode('E_UNAVAILABLE')(err) && (err as ApiCallError).hint === 'try the lab');
  });
});

test('an agent that goes away fails the waiting calls and every later one with E_UNAVAILABLE', async () => {
  await withDir(async (dir) => {
    let stop: (() => void) | undefined;
    const agent = await startTestAgent(join(dir, 'a.sock'), {
      'cluster.status': () => new Promise((_resolve, reject) => (stop = () => reject({ code: 'E_NEVER', message: 'never sent' }))),
    });
    const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 5000 });
    const waiting = client.call('cluster.status', {});
    await delay(20);
    await agent.close();
    await assert.rejects(waiting, isCode('E_UNAVAILABLE'));
    await assert.rejects(client.call('agent.identity', {}), isCode('E_UNAVAILABLE'));
    stop?.();
    await client.close();
  });
});

test('answers that break the framing: a stream error (id null) fails every call with its code; garbage is E_PROTOCOL', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'raw.sock');
    let reply = '';
    const server = createServer((socket) => socket.once('data', () => socket.write(reply)));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      reply = '{"id":null,"error":{"code":"E_MALFORMED_REQUEST","message":"a request line is not valid JSON"}}\n';
      const a = await UnixSocketClient.connect(path, { callTimeoutMs: 2000 });
      await assert.rejects(a.call('agent.status', {}), isCode('E_MALFORMED_REQUEST'));
      await a.close();
      reply = '{"id":1,"neither":true}\n';
      const b = await UnixSocketClient.connect(path, { callTimeoutMs: 2000 });
      await assert.rejects(b.call('agent.status', {}), isCode('E_PROTOCOL'));
      await b.close();
      reply = 'not json\n';
      const c = await UnixSocketClient.connect(path, { callTimeoutMs: 2000 });
      await assert.rejects(c.call('agent.status', {}), isCode('E_PROTOCOL'));
      await c.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

test('after close, calls fail at once and close is idempotent', async () => {
  await withDir(async (dir) => {
    const agent = await startTestAgent(join(dir, 'a.sock'), {});
    const client = await UnixSocketClient.connect(agent.path, { callTimeoutMs: 5000 });
    await client.close();
    await client.close();
    await assert.rejects(client.call('agent.status', {}), isCode('E_CLOSED'));
    await agent.close();
  });
});
