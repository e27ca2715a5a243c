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

/** A link the relay wrongly lets through makes assertRefused wait for ever: fail instead, ms. */
const PAIR_TEST_MS = 20_000;

test('a pair cut resets only the links between the two, both ways; healing one pair leaves the other; a whole heal lifts all', { timeout: PAIR_TEST_MS }, async () => {
  const lab = await threeNodes();
  try {
    const n1ToN2 = await dial(lab.port('n2'), lab.src.n1);
    const n2ToN1 = await dial(lab.port('n1'), lab.src.n2);
    const n1ToN3 = await dial(lab.port('n3'), lab.src.n1);
    const n2ToN3 = await dial(lab.port('n3'), lab.src.n2);
    const adminToN2 = await dial(lab.port('n2'));
    for (const c of [n1ToN2, n2ToN1, n1ToN3, n2ToN3, adminToN2]) await echoes(c, 'before');

    const n1 = lab.relay.cut('n1', 'reset', 'n2');
    assert.deepEqual([n1.cut, n1.cutFrom, n1.totals.cutReset], [null, ['n2'], 2]);
    assert.equal(await n1ToN2.closed, 'ECONNRESET');
    assert.equal(await n2ToN1.closed, 'ECONNRESET');
    for (const c of [n1ToN3, n2ToN3, adminToN2]) await echoes(c, 'other links pass');
    await assertRefused(lab.port('n2'), lab.src.n1);
    await assertRefused(lab.port('n1'), lab.src.n2);
    const n3ToN1 = await dial(lab.port('n1'), lab.src.n3);
    await echoes(n3ToN1, 'n3 reaches n1');

    assert.deepEqual(lab.relay.cut('n1', 'reset', 'n3').cutFrom, ['n2', 'n3']);
    assert.equal(await n1ToN3.closed, 'ECONNRESET');
    assert.equal(await n3ToN1.closed, 'ECONNRESET');
    const byNode = new Map(lab.relay.status().map((s) => [s.node, s]));
    assert.deepEqual(byNode.get('n2')?.cutFrom, ['n1']);
    assert.deepEqual(byNode.get('n3')?.cutFrom, ['n1']);
    assert.equal(byNode.get('n2')?.cut, null);

    // Healed from the other end: a pair is one cut, whichever node names it.
    assert.deepEqual(lab.relay.heal('n2', 'n1').cutFrom, []);
    const healedPair = await dial(lab.port('n2'), lab.src.n1);
    await echoes(healedPair, 'n1-n2 back');
    await assertRefused(lab.port('n3'), lab.src.n1);
    await assertRefused(lab.port('n1'), lab.src.n3);
    assert.deepEqual(lab.relay.status().find((s) => s.node === 'n1')?.cutFrom, ['n3']);

    lab.relay.cut('n1');
    const whole = lab.relay.heal('n1');
    assert.deepEqual([whole.cut, whole.cutFrom], [null, []]);
    assert.deepEqual(lab.relay.status().map((s) => [s.node, s.cut, s.cutFrom]), [['n1', null, []], ['n2', null, []], ['n3', null, []]]);
    const healedIn = await dial(lab.port('n1'), lab.src.n3);
    const healedOut = await dial(lab.port('n3'), lab.src.n1);
    await echoes(healedIn, 'after');
    await echoes(healedOut, 'after');
    for (const c of [n2ToN3, adminToN2, healedPair, healedIn, healedOut]) c.socket.destroy();
  } finally {
    await lab.close();
  }
});

test('a silent pair cut holds only the pair\'s links; a held link goes through only when no cut is left on it', { timeout: PAIR_TEST_MS }, async () => {
  const lab = await threeNodes();
  try {
    const n1ToN2 = await dial(lab.port('n2'), lab.src.n1);
    const n1ToN3 = await dial(lab.port('n3'), lab.src.n1);
    const n2ToN3 = await dial(lab.port('n3'), lab.src.n2);
    for (const c of [n1ToN2, n1ToN3, n2ToN3]) await echoes(c, 'before');

    lab.relay.cut('n1', 'silent', 'n2');
    lab.relay.cut('n1', 'silent', 'n3');
    lab.relay.cut('n2', 'silent');
    n1ToN2.socket.write('held-12');
    n1ToN3.socket.write('held-13');
    const n2ToN1 = await dial(lab.port('n1'), lab.src.n2);
    n2ToN1.socket.write('held-21');
    const n3ToN1 = await dial(lab.port('n1'), lab.src.n3);
    n3ToN1.socket.write('held-31');
    // Held: n1-n2 both ways and n1-n3 both ways by the pair cuts, n2->n3 by n2's whole cut.
    const held = (): number => lab.relay.status().reduce((sum, s) => sum + s.active.held, 0);
    await eventually('five links held', () => held() === 5);

    // The pair n1-n2 is healed, but n2's whole cut still holds both its links to n1.
    assert.deepEqual(lab.relay.heal('n1', 'n2').cutFrom, ['n3']);
    // 300 ms is ample for loopback forwarding to show up if a held link leaked.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(held(), 5);
    assert.equal(n1ToN2.received().toString(), 'before');
    assert.equal(n2ToN1.received().length, 0);

    // n2's whole heal releases its links; the pair n1-n3 still holds its own.
    lab.relay.heal('n2');
    await eventually('n2\'s links delivered', () => n1ToN2.received().toString() === 'beforeheld-12' && n2ToN1.received().toString() === 'held-21');
    await echoes(n2ToN3, 'n2-n3 back');
    assert.equal(n1ToN3.received().toString(), 'before');
    assert.equal(n3ToN1.received().length, 0);
    assert.deepEqual(lab.relay.status().map((s) => s.active.held), [1, 0, 1]);

    lab.relay.heal('n3', 'n1');
    await eventually('n1-n3 delivered', () => n1ToN3.received().toString() === 'beforeheld-13' && n3ToN1.received().toString() === 'held-31');
    for (const c of [n1ToN2, n1ToN3, n2ToN3, n2ToN1, n3ToN1]) c.socket.destroy();
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
      const notFound = (err: unknown) => err instanceof LabError && err.code === 'E_NOT_FOUND' && /no node n9 .*known: n1/.test(err.message);
      assert.throws(() => relay.cut('n1', 'reset', 'n9'), notFound);
      assert.throws(() => relay.heal('n1', 'n9'), notFound);
      const itself = (err: unknown) => err instanceof LabError && err.code === 'E_INVALID';
      assert.throws(() => relay.cut('n1', 'silent', 'n1'), itself);
      assert.throws(() => relay.heal('n1', 'n1'), itself);
      assert.deepEqual(relay.status().map((s) => [s.cut, s.cutFrom]), [[null, []]], 'a refused cut changes nothing');
    } finally {
      await relay.close();
    }
  } finally {
    await echo.close();
  }
});
