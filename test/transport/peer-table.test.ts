import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../src/agent/transport/errors.js';
import { validatePeerTable } from '../../src/agent/transport/peer-table.js';
import type { PeerAddress } from '../../src/agent/transport/peer-table.js';
import { SshTransport } from '../../src/agent/transport/transport.js';
import { keyFor } from './helpers.js';

test('a peer table is checked whole: every problem is reported, with codes', async () => {
  const [b, c, host] = await Promise.all([keyFor('b'), keyFor('c'), keyFor('host')]);
  const good: PeerAddress = { id: 'b', host: '127.0.0.1', port: 7000, hostPublicKey: host.publicKey, clientPublicKey: b.publicKey };
  assert.deepEqual(validatePeerTable([good]), []);

  const problems = validatePeerTable([
    good,
    { ...good, clientPublicKey: c.publicKey }, // b again
    { id: 'd', host: '', port: 0, hostPublicKey: 'ssh-ed25519 nonsense', clientPublicKey: b.publicKey },
    { id: 'e', host: 'h', port: 1, hostPublicKey: host.publicKey, clientPublicKey: c.privateKey },
  ]);
  assert.deepEqual(problems.map((p) => [p.peer, p.code]), [
    ['b', 'E_PEER_INVALID'], // listed twice
    ['d', 'E_PEER_INVALID'], // no host
    ['d', 'E_PEER_INVALID'], // port 0
    ['d', 'E_KEY_INVALID'], // host key
    ['d', 'E_PEER_INVALID'], // shares b's client key
    ['e', 'E_KEY_INVALID'], // a private key where a public one belongs
  ]);
});

test('a transport refuses an unusable peer table before it listens', async () => {
  const host = await keyFor('host');
  await assert.rejects(
    SshTransport.start({
      nodeId: 'a',
      listenHost: '127.0.0.1',
      listenPort: 0,
      hostPrivateKey: host.privateKey,
      clientPrivateKey: host.privateKey,
      peers: [{ id: 'b', host: '127.0.0.1', port: 1, hostPublicKey: 'junk', clientPublicKey: 'junk' }],
    }),
    (err: unknown) => err instanceof TransportError && err.code === 'E_PEER_INVALID',
  );
});
