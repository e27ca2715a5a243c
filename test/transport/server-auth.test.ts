// The embedded server's login rules, with real ssh2 clients on loopback.

import { test } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import type { PublicKeyAuthMethod } from 'ssh2';
import type { TransportProblem } from '../../src/agent/transport/errors.js';
import { parseOne, publicKeyBlob } from '../../src/agent/transport/keys.js';
import type { NodeKeyPair } from '../../src/agent/transport/keys.js';
import { PeerLink } from '../../src/agent/transport/peer-link.js';
import { CONTROL_LIMITS } from '../../src/agent/transport/framed-channel.js';
import { SshServer } from '../../src/agent/transport/server.js';
import type { Identity } from '../../src/agent/transport/server.js';
import { keyFor, openSubsystem, tryLogin, waitFor } from './helpers.js';

interface Fixture {
  server: SshServer;
  host: NodeKeyPair;
  peer: NodeKeyPair;
  admin: NodeKeyPair;
  problems: TransportProblem[];
  received: { peer: string; message: object }[];
}

async function startServer(loginGraceMs?: number): Promise<Fixture> {
  const [host, peer, admin] = await Promise.all([keyFor('host'), keyFor('peer-b'), keyFor('admin-alice')]);
  const known = new Map<string, Identity>([
    [publicKeyBlob(peer.publicKey).toString('base64'), { kind: 'peer', nodeId: 'b' }],
    [publicKeyBlob(admin.publicKey).toString('base64'), { kind: 'admin', name: 'alice', role: 'operator' }],
  ]);
  const problems: TransportProblem[] = [];
  const received: Fixture['received'] = [];
  const server = await SshServer.start({
    host: '127.0.0.1',
    port: 0,
    hostKey: host.privateKey,
    authorizedKeys: (key) => known.get(key.data.toString('base64')) ?? null,
    onPeerMessage: (peerId, _lane, message) => received.push({ peer: peerId, message }),
    onExec: (identity, command, channel) => {
      channel.end(`${identity.kind} ran ${command}\n`);
      channel.exit(0);
    },
    onProblem: (problem) => problems.push(problem),
    ...(loginGraceMs === undefined ? {} : { loginGraceMs }),
  });
  return { server, host, peer, admin, problems, received };
}

test('an authorised key logs in and may open the peer subsystem', async () => {
  const f = await startServer();
  try {
    const login = await tryLogin({ port: f.server.port, username: 'b', privateKey: f.peer.privateKey });
    assert.equal(login.ok, true);
    if (!login.ok) return;
    const channel = await openSubsystem(login.client, 'fcm-peer');
    const frame = Buffer.from('{"hello":"a"}');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(frame.length, 0);
    channel.write(Buffer.concat([header, frame]));
    await waitFor(() => f.received.length === 1, 'the frame to arrive');
    assert.deepEqual(f.received, [{ peer: 'b', message: { hello: 'a' } }]);
    login.client.end();
  } finally {
    await f.server.close();
  }
});

test('an unknown key is refused', async () => {
  const f = await startServer();
  try {
    const stranger = await keyFor('stranger');
    const login = await tryLogin({ port: f.server.port, username: 'b', privateKey: stranger.privateKey });
    assert.equal(login.ok, false);
    assert.equal(login.ok === false && login.level, 'client-authentication');
    assert.ok(f.problems.some((p) => p.code === 'E_UNKNOWN_KEY'));
  } finally {
    await f.server.close();
  }
});

test('offering a known public key but signing with another key is refused', async () => {
  const f = await startServer();
  try {
    const other = parseOne((await keyFor('forger')).privateKey);
    // The forger knows only peer b's public key: the key object it offers
    // carries b's public part and signs with the forger's private key.
    const forged = parseOne(f.peer.publicKey);
    forged.isPrivateKey = () => true;
    forged.sign = (data, algo) => other.sign(data, algo);
    const offer: PublicKeyAuthMethod = { type: 'publickey', username: 'b', key: forged };
    const login = await tryLogin({ port: f.server.port, username: 'b', authHandler: [offer] });
    assert.equal(login.ok, false);
    assert.ok(f.problems.some((p) => p.code === 'E_BAD_SIGNATURE'), JSON.stringify(f.problems));
  } finally {
    await f.server.close();
  }
});

test('password, keyboard-interactive and none logins are refused, and only publickey is advertised', async () => {
  const f = await startServer();
  try {
    let advertised: string[] | null = null;
    const login = await tryLogin({
      port: f.server.port,
      username: 'b',
      tryKeyboard: true,
      authHandler: (methodsLeft, _partial, next) => {
        if (methodsLeft === null) return next({ type: 'none', username: 'b' });
        advertised = methodsLeft;
        if (!f.problems.some((p) => p.message.includes('password'))) return next({ type: 'password', username: 'b', password: 'b' });
        if (!f.problems.some((p) => p.message.includes('keyboard'))) {
          return next({ type: 'keyboard-interactive', username: 'b', prompt: (_n, _i, _l, _p, finish) => finish(['b']) });
        }
        return false;
      },
    });
    assert.equal(login.ok, false);
    assert.deepEqual(advertised, ['publickey']);
    assert.deepEqual(f.problems.map((p) => p.code), ['E_AUTH_METHOD', 'E_AUTH_METHOD', 'E_AUTH_METHOD']);
  } finally {
    await f.server.close();
  }
});

test('an admin may exec but not open the peer subsystem', async () => {
  const f = await startServer();
  try {
    const login = await tryLogin({ port: f.server.port, username: 'alice', privateKey: f.admin.privateKey });
    assert.equal(login.ok, true);
    if (!login.ok) return;
    await assert.rejects(openSubsystem(login.client, 'fcm-peer'));
    const output = await new Promise<string>((resolve, reject) => {
      login.client.exec('status --json', (err, channel) => {
        if (err) return reject(err);
        let text = '';
        channel.on('data', (chunk: Buffer) => (text += chunk.toString()));
        channel.on('close', () => resolve(text));
      });
    });
    assert.equal(output, 'admin ran status --json\n');
    login.client.end();
  } finally {
    await f.server.close();
  }
});

test('a link that pins another host key refuses to connect', async () => {
  const f = await startServer();
  const problems: TransportProblem[] = [];
  let ups = 0;
  const link = new PeerLink({
    peer: 'a',
    host: '127.0.0.1',
    port: f.server.port,
    hostPublicKey: (await keyFor('not-the-host')).publicKey,
    clientPrivateKey: f.peer.privateKey,
    username: 'b',
    lane: 'control',
    limits: CONTROL_LIMITS,
    backoff: { initialMs: 20, maxMs: 50, factor: 2 },
    onUp: () => ups++,
    onProblem: (problem) => problems.push(problem),
  });
  try {
    link.start();
    await waitFor(() => problems.filter((p) => p.code === 'E_HOST_KEY_MISMATCH').length >= 2, 'two refused attempts');
    assert.equal(ups, 0);
    assert.equal(link.send({ x: 1 }), false);
    assert.equal(f.server.clients.length, 0);
  } finally {
    await link.close();
    await f.server.close();
  }
});

test('a connection that never logs in is dropped after the grace period', async () => {
  const f = await startServer(100);
  try {
    const socket = connect({ host: '127.0.0.1', port: f.server.port });
    socket.on('error', () => {});
    socket.resume(); // read the server's greeting, or 'close' waits for it to be consumed
    socket.write('SSH-2.0-silent\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    assert.deepEqual(f.problems.map((p) => p.code), ['E_LOGIN_TIMEOUT']);
  } finally {
    await f.server.close();
  }
});
