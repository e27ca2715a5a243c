import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { startRelay } from '../../src/lab/relay.js';
import type { Relay } from '../../src/lab/relay.js';
import { LabError } from '../../src/lab/lab-error.js';
import { assertRefused, dial, echoes, eventually, routeFor, startEchoServer } from './helpers.js';
import type { EchoServer } from './helpers.js';

interface Lab {
  relay: Relay;
  echo: Record<'n1' | 'n2' | 'n3', EchoServer>;
  port(node: 'n1' | 'n2' | 'n3'): number;
  src: Record<'n1' | 'n2' | 'n3', string>;
  close(): Promise<void>;
}

async function threeNodes(): Promise<Lab> {
  const echo = {
    n1: await startEchoServer('127.0.1.1'),
    n2: await startEchoServer('127.0.1.2'),
    n3: await startEchoServer('127.0.1.3'),
  };
  const relay = await startRelay({ routes: [routeFor('n1', echo.n1), routeFor('n2', echo.n2), routeFor('n3', echo.n3)] });
  return {
    relay,
    echo,
    port: (node) => relay.publicAddress(node).port,
    src: { n1: '127.0.1.1', n2: '127.0.1.2', n3: '127.0.1.3' },
    async close() {
      await relay.close();
      await Promise.all(Object.values(echo).map((e) => e.close()));
    },
  };
}

test('forwards both ways, keeps the peer source address, and passes a half-close after bulk data', async () => {
  const lab = await threeNodes();
  try {
    const c = await dial(lab.port('n2'), lab.src.n1);
    await echoes(c, 'hello');
    assert.deepEqual(lab.echo.n2.peers, ['127.0.1.1']);

    // 4 MiB exceeds every socket buffer on the way, so back-pressure is exercised.
    const bulk = randomBytes(4 * 1024 * 1024);
    const big = await dial(lab.port('n3'), lab.src.n2);
    big.socket.end(bulk);
    assert.equal(await big.closed, undefined);
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.equal(digest(big.received()), digest(bulk));

    const [n3] = lab.relay.status().filter((s) => s.node === 'n3');
    assert.equal(n3?.totals.bytesToTarget, bulk.length);
    assert.equal(n3?.totals.bytesFromTarget, bulk.length);
    c.socket.destroy();
  } finally {
    await lab.close();
  }
});

test('cut resets the node\'s connections both ways and refuses new ones; others and admins pass; heal restores', async () => {
  const lab = await threeNodes();
  try {
    const n1ToN2 = await dial(lab.port('n2'), lab.src.n1);
    const n2ToN3 = await dial(lab.port('n3'), lab.src.n2);
    const n3ToN1 = await dial(lab.port('n1'), lab.src.n3);
    const adminToN2 = await dial(lab.port('n2'));
    for (const c of [n1ToN2, n2ToN3, n3ToN1, adminToN2]) await echoes(c, 'before');

    const status = lab.relay.cut('n2');
    assert.equal(status.cut, 'reset');
    assert.equal(await n1ToN2.closed, 'ECONNRESET');
    assert.equal(await n2ToN3.closed, 'ECONNRESET');
    assert.equal(status.totals.cutReset, 2);

    await echoes(n3ToN1, 'during');
    await echoes(adminToN2, 'during');
    await assertRefused(lab.port('n2'), lab.src.n1);
    await assertRefused(lab.port('n2'), lab.src.n3);
    await assertRefused(lab.port('n1'), lab.src.n2);
    await assertRefused(lab.port('n3'), lab.src.n2);
    const fresh = await dial(lab.port('n1'), lab.src.n3);
    await echoes(fresh, 'still');
    const adminNew = await dial(lab.port('n2'));
    await echoes(adminNew, 'admin');

    const byNode = new Map(lab.relay.status().map((s) => [s.node, s]));
    assert.equal(byNode.get('n2')?.totals.refused, 2);
    assert.equal(byNode.get('n1')?.totals.refused, 1);
    assert.equal(byNode.get('n2')?.active.admin, 2);

    assert.equal(lab.relay.heal('n2').cut, null);
    const healedIn = await dial(lab.port('n2'), lab.src.n1);
    const healedOut = await dial(lab.port('n3'), lab.src.n2);
    await echoes(healedIn, 'after');
    await echoes(healedOut, 'after');
    for (const c of [n3ToN1, adminToN2, fresh, adminNew, healedIn, healedOut]) c.socket.destroy();
  } finally {
    await lab.close();
  }
});

test('a link stays cut while either end is cut', async () => {
  const lab = await threeNodes();
  try {
    lab.relay.cut('n1');
    lab.relay.cut('n2');
    lab.relay.heal('n1');
    await assertRefused(lab.port('n2'), lab.src.n1);
    const ok = await dial(lab.port('n3'), lab.src.n1);
    await echoes(ok, 'n1 is back for n3');
    ok.socket.destroy();
  } finally {
    await lab.close();
  }
});

test('a silent cut forwards nothing and closes nothing; heal delivers what was held', async () => {
  const lab = await threeNodes();
  try {
    const existing = await dial(lab.port('n2'), lab.src.n1);
    await echoes(existing, 'before');
    lab.relay.cut('n2', 'silent');
    existing.socket.write('held-1');
    const fresh = await dial(lab.port('n2'), lab.src.n3);
    fresh.socket.write('held-2');
    const admin = await dial(lab.port('n2'));
    await echoes(admin, 'admin passes');

    await eventually('both peer links held', () => lab.relay.status().find((s) => s.node === 'n2')?.active.held === 2);
    // Nothing may come through while cut; 300 ms is ample for loopback forwarding to show up if it leaked.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existing.received().toString(), 'before');
    assert.equal(fresh.received().length, 0);
    assert.deepEqual(lab.echo.n2.peers, ['127.0.1.1', '127.0.0.1']);

    lab.relay.heal('n2');
    await eventually('held bytes delivered', () => existing.received().toString() === 'beforeheld-1' && fresh.received().toString() === 'held-2');
    assert.deepEqual(lab.echo.n2.peers, ['127.0.1.1', '127.0.0.1', '127.0.1.3']);
    for (const c of [existing, fresh, admin]) c.socket.destroy();
  } finally {
    await lab.close();
  }
});

test('a dead target resets the client and is counted', async () => {
  const echo = await startEchoServer('127.0.1.4');
  const relay = await startRelay({ routes: [routeFor('n4', echo)] });
  try {
    await echo.close();
    await assertRefused(relay.publicAddress('n4').port, '127.0.1.5');
    assert.equal(relay.status()[0]?.totals.targetFailed, 1);
  } finally {
    await relay.close();
  }
});

test('bad routes are refused with every problem; unknown nodes are E_NOT_FOUND', async () => {
  const echo = await startEchoServer('127.0.1.1');
  try {
    await assert.rejects(
      startRelay({
        routes: [
          { ...routeFor('a', echo), targetPort: 0 },
          { ...routeFor('a', echo), publicHost: 'localhost' },
        ],
      }),
      (err: unknown) => err instanceof LabError && err.code === 'E_INVALID' && err.problems.length === 4,
    );
    const relay = await startRelay({ routes: [routeFor('n1', echo)] });
    try {
      assert.throws(() => relay.cut('n9'), (err: unknown) => err instanceof LabError && err.code === 'E_NOT_FOUND');
    } finally {
      await relay.close();
    }
  } finally {
    await echo.close();
  }
});
