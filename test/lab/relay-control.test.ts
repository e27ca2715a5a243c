import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';
import { lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRelay } from '../../src/lab/relay.js';
import { controlRelay, parseControlRequest } from '../../src/lab/relay-control.js';
import { LabError } from '../../src/lab/lab-error.js';
import { waitUntilGone } from '../../src/os/process-identity.js';
import { signal, startDetached } from '../../src/lab/processes.js';
import { assertRefused, dial, echoes, eventually, routeFor, startEchoServer, withTempDir } from './helpers.js';

const isLabError = (code: string) => (err: unknown) => err instanceof LabError && err.code === code;

/** Send raw lines on one connection and collect `count` response lines. */
async function rawExchange(path: string, text: string, count: number): Promise<Array<Record<string, unknown>>> {
  const socket = createConnection(path);
  socket.setEncoding('utf8');
  let buffer = '';
  socket.write(text);
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n').filter((l) => l !== '');
      if (lines.length >= count && buffer.endsWith('\n')) {
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    });
  });
}

test('cut, heal and status over the control socket; bad requests get coded errors and the relay goes on', async () => {
  await withTempDir(async (dir) => {
    const echo1 = await startEchoServer('127.0.1.1');
    const echo2 = await startEchoServer('127.0.1.2');
    const socketPath = join(dir, 'control.sock');
    const relay = await startRelay({ routes: [routeFor('n1', echo1), routeFor('n2', echo2)], controlSocket: socketPath });
    try {
      assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
      const port2 = relay.publicAddress('n2').port;

      const [cut] = await controlRelay(socketPath, { op: 'cut', node: 'n2' });
      assert.equal(cut?.cut, 'reset');
      await assertRefused(port2, '127.0.1.1');

      await assert.rejects(controlRelay(socketPath, { op: 'cut', node: 'n7' }), isLabError('E_NOT_FOUND'));

      const replies = await rawExchange(socketPath, 'not json\n{"op":"cut","mode":"loud","extra":1}\n[1]\n{"op":"status"}\n', 4);
      assert.deepEqual(replies.map((r) => [r.ok, r.code]), [[false, 'E_INVALID'], [false, 'E_INVALID'], [false, 'E_INVALID'], [true, undefined]]);
      assert.equal((replies[1]?.problems as string[]).length, 3);
      assert.equal((replies[3]?.nodes as unknown[]).length, 2);

      const [healed] = await controlRelay(socketPath, { op: 'heal', node: 'n2' });
      assert.equal(healed?.cut, null);
      const c = await dial(port2, '127.0.1.1');
      await echoes(c, 'back');
      c.socket.destroy();

      const [pair] = await controlRelay(socketPath, { op: 'cut', node: 'n1', peer: 'n2', mode: 'reset' });
      assert.deepEqual([pair?.node, pair?.cut, pair?.cutFrom], ['n1', null, ['n2']]);
      await assertRefused(port2, '127.0.1.1');
      await assert.rejects(controlRelay(socketPath, { op: 'cut', node: 'n1', peer: 'n1' }), isLabError('E_INVALID'));
      await assert.rejects(controlRelay(socketPath, { op: 'heal', node: 'n1', peer: 'n7' }), isLabError('E_NOT_FOUND'));
      const [pairHealed] = await controlRelay(socketPath, { op: 'heal', node: 'n2', peer: 'n1' });
      assert.deepEqual(pairHealed?.cutFrom, []);
      const again = await dial(port2, '127.0.1.1');
      await echoes(again, 'pair back');
      again.socket.destroy();

      const status = await controlRelay(socketPath, { op: 'status' });
      assert.deepEqual(status.map((s) => s.node), ['n1', 'n2']);
    } finally {
      await relay.close();
      await echo1.close();
      await echo2.close();
    }
    await assert.rejects(stat(socketPath), { code: 'ENOENT' });
    await assert.rejects(controlRelay(socketPath, { op: 'status' }), isLabError('E_UNAVAILABLE'));
  });
});

test('an overlong request line is refused and its connection closed', async () => {
  await withTempDir(async (dir) => {
    const echo = await startEchoServer('127.0.1.1');
    const socketPath = join(dir, 'control.sock');
    const relay = await startRelay({ routes: [routeFor('n1', echo)], controlSocket: socketPath });
    try {
      const [reply] = await rawExchange(socketPath, 'x'.repeat(70 * 1024), 1);
      assert.equal(reply?.code, 'E_INVALID');
      assert.equal((await controlRelay(socketPath, { op: 'status' })).length, 1);
    } finally {
      await relay.close();
      await echo.close();
    }
  });
});

test('a second relay on a live control socket is E_EXISTS and leaves the first one serving', async () => {
  await withTempDir(async (dir) => {
    const echo = await startEchoServer('127.0.1.1');
    const socketPath = join(dir, 'control.sock');
    const first = await startRelay({ routes: [routeFor('n1', echo)], controlSocket: socketPath });
    try {
      await assert.rejects(startRelay({ routes: [routeFor('n1', echo)], controlSocket: socketPath }), isLabError('E_EXISTS'));
      assert.equal((await controlRelay(socketPath, { op: 'status' })).length, 1);
    } finally {
      await first.close();
    }
    // A file that is not a socket is never deleted to make room.
    const notSocket = join(dir, 'not-a-socket');
    await writeFile(notSocket, 'keep me');
    await assert.rejects(startRelay({ routes: [routeFor('n1', echo)], controlSocket: notSocket }), isLabError('E_EXISTS'));
    assert.equal(await readFile(notSocket, 'utf8'), 'keep me');
    await echo.close();
  });
});

test('a stale socket left by a dead relay is replaced', async () => {
  await withTempDir(async (dir) => {
    const echo = await startEchoServer('127.0.1.1');
    const socketPath = join(dir, 'control.sock');
    // A listener killed by SIGKILL leaves its socket file behind, as a killed relay would.
    const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('ready'))`;
    const holder = await startDetached({ command: process.execPath, args: ['-e', script], logFile: join(dir, 'holder.log') });
    await eventually('holder listening', () => readFileSync(join(dir, 'holder.log'), 'utf8').includes('ready'));
    signal(holder, 'SIGKILL');
    assert.equal(await waitUntilGone(holder, 5000), true);
    assert.equal((await lstat(socketPath)).isSocket(), true);
    const relay = await startRelay({ routes: [routeFor('n1', echo)], controlSocket: socketPath });
    try {
      assert.equal((await controlRelay(socketPath, { op: 'status' })).length, 1);
    } finally {
      await relay.close();
      await echo.close();
    }
  });
});

test('parseControlRequest accepts the three ops and reports every problem', () => {
  assert.deepEqual(parseControlRequest('{"op":"cut","node":"n2","mode":"silent"}'), { op: 'cut', node: 'n2', mode: 'silent' });
  assert.deepEqual(parseControlRequest('{"op":"heal","node":"n2"}'), { op: 'heal', node: 'n2' });
  assert.deepEqual(parseControlRequest('{"op":"cut","node":"n1","peer":"n2"}'), { op: 'cut', node: 'n1', peer: 'n2' });
  assert.deepEqual(parseControlRequest('{"op":"heal","node":"n1","peer":"n2"}'), { op: 'heal', node: 'n1', peer: 'n2' });
  assert.throws(
    () => parseControlRequest('{"op":"status","peer":"n2"}'),
    (err: unknown) => err instanceof LabError && err.code === 'E_INVALID' && err.problems.length === 1 && /peer/.test(err.problems[0] ?? ''),
  );
  assert.throws(
    () => parseControlRequest('{"op":"cut","node":"","peer":3}'),
    (err: unknown) => err instanceof LabError && err.code === 'E_INVALID' && err.problems.length === 2,
  );
  assert.deepEqual(parseControlRequest('{"op":"status"}'), { op: 'status' });
  assert.throws(
    () => parseControlRequest('{"op":"status","node":"n1","mode":"reset"}'),
    (err: unknown) => err instanceof LabError && err.code === 'E_INVALID' && err.problems.length === 2,
  );
});
