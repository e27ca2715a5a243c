// Two or three SshTransports on loopback: lanes, a misbehaving client, peer
// table changes and redialling after a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportProblem } from '../../src/agent/transport/errors.js';
import { SshTransport } from '../../src/agent/transport/transport.js';
import type { Lane, PeerAddress } from '../../src/agent/transport/transport.js';
import { closed, keyFor, openSubsystem, tryLogin, waitFor } from './helpers.js';

const FAST_BACKOFF = { initialMs: 20, maxMs: 200, factor: 2 };

interface Node {
  id: string;
  transport: SshTransport;
  inbox: { from: string; lane: Lane; message: Record<string, unknown> }[];
  problems: TransportProblem[];
  links: string[];
}

async function address(id: string, port: number): Promise<PeerAddress> {
  const [host, client] = await Promise.all([keyFor(`${id}-host`), keyFor(`${id}-client`)]);
  return { id, host: '127.0.0.1', port, hostPublicKey: host.publicKey, clientPublicKey: client.publicKey };
}

async function startNode(id: string, port: number, peers: PeerAddress[]): Promise<Node> {
  const [host, client] = await Promise.all([keyFor(`${id}-host`), keyFor(`${id}-client`)]);
  const node: Node = { id, transport: null as unknown as SshTransport, inbox: [], problems: [], links: [] };
  node.transport = await SshTransport.start({
    nodeId: id,
    listenHost: '127.0.0.1',
    listenPort: port,
    hostPrivateKey: host.privateKey,
    clientPrivateKey: client.privateKey,
    peers,
    backoff: FAST_BACKOFF,
    onProblem: (problem) => node.problems.push(problem),
    onLinkChange: (peer, lane, up) => node.links.push(`${peer}/${lane}/${up ? 'up' : 'down'}`),
  });
  node.transport.onMessage((message, from, lane) => node.inbox.push({ from, lane, message: message as Record<string, unknown> }));
  return node;
}

/** Starts nodes on ephemeral ports, then gives each the full peer table. */
async function startCluster(ids: string[]): Promise<Node[]> {
  const nodes = await Promise.all(ids.map((id) => startNode(id, 0, [])));
  const table = await Promise.all(nodes.map((n) => address(n.id, n.transport.port)));
  for (const node of nodes) node.transport.updatePeers(table);
  for (const node of nodes) {
    await waitFor(() => ids.every((id) => id === node.id || (node.transport.stats()[id]?.control.up && node.transport.stats()[id]?.bulk.up)), `${node.id}'s links up`);
  }
  return nodes;
}

test('messages flow both ways on control, and an 8 MiB bulk message does not hold control back', async () => {
  const [a, b] = await startCluster(['a', 'b']);
  assert.ok(a && b);
  try {
    for (let i = 0; i < 50; i++) {
      assert.equal(a.transport.send('b', { type: 'ping', i }, 'control'), true);
      assert.equal(b.transport.send('a', { type: 'pong', i }, 'control'), true);
    }
    await waitFor(() => a.inbox.length === 50 && b.inbox.length === 50, 'all pings and pongs');
    assert.deepEqual(b.inbox.map((m) => m.message.i), [...Array(50).keys()]);
    assert.ok(b.inbox.every((m) => m.from === 'a' && m.lane === 'control'));
    assert.ok(a.inbox.every((m) => m.from === 'b' && m.message.type === 'pong'));

    b.inbox.length = 0;
    const snapshot = { type: 'snapshot', data: 'x'.repeat(8 * 1024 * 1024) };
    assert.equal(a.transport.send('b', snapshot, 'bulk'), true);
    // Heartbeats sent after the snapshot, until it lands. Over one shared
    // connection they would queue behind its 8 MiB; on their own connection
    // some arrive first.
    let sent = 0;
    while (!b.inbox.some((m) => m.message.type === 'snapshot') && sent < 100_000) {
      a.transport.send('b', { type: 'heartbeat', round: sent++ }, 'control');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const bulkAt = b.inbox.findIndex((m) => m.message.type === 'snapshot');
    assert.ok(bulkAt > 0, `expected heartbeats before the snapshot, it arrived at position ${bulkAt}`);
    assert.equal(b.inbox[bulkAt]?.lane, 'bulk');
    assert.equal((b.inbox[bulkAt]?.message.data as string).length, 8 * 1024 * 1024);
    assert.equal(a.transport.stats().b?.bulk.dropped, 0);
  } finally {
    await Promise.all([a.transport.close(), b.transport.close()]);
  }
});

test('sending to an unknown peer is dropped, not thrown', async () => {
  const [a] = await startCluster(['a']);
  assert.ok(a);
  try {
    assert.equal(a.transport.send('nobody', { x: 1 }, 'control'), false);
  } finally {
    await a.transport.close();
  }
});

test('a broken frame closes only the connection that sent it', async () => {
  const [a, b] = await startCluster(['a', 'b']);
  assert.ok(a && b);
  try {
    // A client holding b's key misbehaves on a raw channel.
    const login = await tryLogin({ port: a.transport.port, username: 'b', privateKey: (await keyFor('b-client')).privateKey });
    assert.equal(login.ok, true);
    if (!login.ok) return;
    const channel = await openSubsystem(login.client, 'fcm-peer');
    const gone = closed(login.client);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(20, 0);
    channel.write(Buffer.concat([header, Buffer.from('{"trunc')])); // 7 of 20 bytes
    channel.write(Buffer.from('\u0000garbage-garbage-garbage'));
    await gone;
    assert.ok(a.problems.some((p) => p.code === 'E_FRAME_MALFORMED' && p.peer === 'b'), JSON.stringify(a.problems));

    // The real b's links to a were untouched.
    assert.equal(b.transport.stats().a?.control.up, true);
    assert.equal(b.transport.send('a', { after: true }, 'control'), true);
    await waitFor(() => a.inbox.some((m) => m.message.after === true), 'a message after the bad connection');
  } finally {
    await Promise.all([a.transport.close(), b.transport.close()]);
  }
});

test('a peer removed from the table is cut off both ways', async () => {
  const [a, b, c] = await startCluster(['a', 'b', 'c']);
  assert.ok(a && b && c);
  try {
    a.transport.updatePeers([await address('a', a.transport.port), await address('c', c.transport.port)]);
    assert.equal(a.transport.send('b', { x: 1 }, 'control'), false);
    await waitFor(() => b.links.includes('a/control/down'), "b's control link to a dropping");
    await waitFor(() => b.problems.some((p) => p.code === 'E_AUTH_REFUSED' && p.peer === 'a'), 'b being refused by a');
    assert.equal(c.transport.send('a', { fromC: true }, 'control'), true);
    await waitFor(() => a.inbox.some((m) => m.from === 'c' && m.message.fromC === true), 'c still reaching a');
  } finally {
    await Promise.all([a.transport.close(), b.transport.close(), c.transport.close()]);
  }
});

test('after a peer restarts on the same port, the link comes back and messages flow', async () => {
  const [a, b] = await startCluster(['a', 'b']);
  assert.ok(a && b);
  let restarted: Node | null = null;
  try {
    const port = b.transport.port;
    await b.transport.close();
    await waitFor(() => a.links.includes('b/control/down'), "a's link to b dropping");
    assert.equal(a.transport.send('b', { lost: true }, 'control'), false);

    restarted = await startNode('b', port, [await address('a', a.transport.port)]);
    await waitFor(() => a.links.filter((l) => l === 'b/control/up').length === 2, "a's link to b coming back");
    assert.equal(a.transport.send('b', { back: true }, 'control'), true);
    await waitFor(() => restarted?.inbox.some((m) => m.message.back === true) === true, 'a message to the restarted b');
    assert.ok(a.transport.stats().b?.control.connects === 2);
  } finally {
    await Promise.all([a.transport.close(), restarted?.transport.close()]);
  }
});
