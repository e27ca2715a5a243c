// Large bulk messages go through the transport's codec worker: order on the
// bulk lane is kept across small and large messages, and close() stops the
// worker so that a process that used it can exit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshTransport } from '../../src/agent/transport/transport.js';
import type { PeerAddress } from '../../src/agent/transport/transport.js';
import { keyFor, waitFor, withTempDir } from './helpers.js';

const run = promisify(execFile);

async function startPair(): Promise<{ a: SshTransport; b: SshTransport; inboxA: object[]; inboxB: object[] }> {
  const ids = ['a', 'b'] as const;
  const keys = await Promise.all(ids.map(async (id) => ({ host: await keyFor(`${id}-host`), client: await keyFor(`${id}-client`) })));
  const [a, b] = await Promise.all(ids.map((id, i) => SshTransport.start({
    nodeId: id,
    listenHost: '127.0.0.1',
    listenPort: 0,
    hostPrivateKey: keys[i]?.host.privateKey ?? '',
    clientPrivateKey: keys[i]?.client.privateKey ?? '',
    peers: [],
    backoff: { initialMs: 20, maxMs: 200, factor: 2 },
  })));
  assert.ok(a && b);
  const table: PeerAddress[] = [a, b].map((transport, i) => ({
    id: ids[i] ?? '',
    host: '127.0.0.1',
    port: transport.port,
    hostPublicKey: keys[i]?.host.publicKey ?? '',
    clientPublicKey: keys[i]?.client.publicKey ?? '',
  }));
  a.updatePeers(table);
  b.updatePeers(table);
  const inboxA: object[] = [];
  const inboxB: object[] = [];
  a.onMessage((message, _from, lane) => lane === 'bulk' && inboxA.push(message));
  b.onMessage((message, _from, lane) => lane === 'bulk' && inboxB.push(message));
  await waitFor(() => a.stats().b?.bulk.up === true && b.stats().a?.bulk.up === true, 'bulk links up');
  return { a, b, inboxA, inboxB };
}

test('small and large bulk messages arrive in the order they were sent, both ways', async () => {
  const { a, b, inboxA, inboxB } = await startPair();
  try {
    // Large ones (over 256 KiB of JSON) go through the worker, small ones not:
    // a small one sent after a large one must still arrive after it.
    const sizes = [10, 300_000, 5, 2_500_000, 20, 40, 400_000, 3, 1_200_000, 8];
    const messages = sizes.map((size, seq) => ({ type: 'snapshot', seq, data: `${seq}:${'é\u{1F600}x'.repeat(Math.ceil(size / 4))}` }));
    for (const message of messages) {
      assert.equal(a.send('b', message, 'bulk'), true);
      assert.equal(b.send('a', message, 'bulk'), true);
    }
    assert.equal(a.codecRunning, true);
    await waitFor(() => inboxA.length === messages.length && inboxB.length === messages.length, 'every bulk message');
    assert.deepEqual(inboxB.map((m) => (m as { seq: number }).seq), sizes.map((_, seq) => seq));
    assert.deepEqual(inboxB, messages);
    assert.deepEqual(inboxA, messages);
    assert.equal(a.stats().b?.bulk.dropped, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  assert.equal(a.codecRunning, false);
  assert.equal(b.codecRunning, false);
});

test('after close() stops the codec worker, a process that used it exits on its own', async () => {
  const transportUrl = new URL('../../src/agent/transport/transport.js', import.meta.url).href;
  const keysUrl = new URL('../../src/agent/transport/keys.js', import.meta.url).href;
  // Two transports in a child process send one large bulk message, close,
  // and then leave nothing to wait for: a worker still running would keep
  // the child alive until the timeout below kills it. (A file, not -e:
  // workers inherit --input-type, which refuses a worker's file.)
  const script = `
    import { SshTransport } from ${JSON.stringify(transportUrl)};
    import { generateNodeKeyPair } from ${JSON.stringify(keysUrl)};
    const [ka, kb] = await Promise.all([generateNodeKeyPair('a'), generateNodeKeyPair('b')]);
    const start = (id, key) => SshTransport.start({ nodeId: id, listenHost: '127.0.0.1', listenPort: 0,
      hostPrivateKey: key.privateKey, clientPrivateKey: key.privateKey, peers: [] });
    const [a, b] = await Promise.all([start('a', ka), start('b', kb)]);
    const table = [['a', a, ka], ['b', b, kb]].map(([id, t, k]) => ({ id, host: '127.0.0.1', port: t.port,
      hostPublicKey: k.publicKey, clientPublicKey: k.publicKey }));
    a.updatePeers(table);
    b.updatePeers(table);
    const got = new Promise((resolve) => b.onMessage((m, from, lane) => lane === 'bulk' && resolve(m)));
    const sent = setInterval(() => a.send('b', { type: 'snapshot', data: 'x'.repeat(1 << 20) }, 'bulk'), 50);
    const message = await got;
    clearInterval(sent);
    console.log('received', message.data.length, 'worker running', a.codecRunning && b.codecRunning);
    await Promise.all([a.close(), b.close()]);
    console.log('closed, worker running', a.codecRunning || b.codecRunning);
  `;
  const { stdout } = await withTempDir(async (dir) => {
    const path = join(dir, 'use-and-close.mjs');
    await writeFile(path, script);
    return run(process.execPath, [path], { timeout: 20_000 });
  });
  assert.equal(stdout, `received ${1 << 20} worker running true\nclosed, worker running false\n`);
});
