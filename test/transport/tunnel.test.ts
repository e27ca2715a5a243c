// Tunnel mode against Debian's real OpenSSH sshd: node a reaches node b
// only through b's sshd (streamlocal forwarding to b's peer.sock); b
// reaches a directly. Also: the peer socket's permissions and stale-socket
// handling, which need no sshd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TransportProblem } from '../../src/agent/transport/errors.js';
import { TransportError } from '../../src/agent/transport/errors.js';
import { validatePeerTable } from '../../src/agent/transport/peer-table.js';
import { SshServer } from '../../src/agent/transport/server.js';
import { SshTransport } from '../../src/agent/transport/transport.js';
import type { Lane, PeerAddress } from '../../src/agent/transport/transport.js';
import { keyFor, waitFor, withTempDir } from './helpers.js';
import { freePort, SSHD, sshdInstalled, startSshd } from './sshd.js';
import type { Sshd } from './sshd.js';

const FAST_BACKOFF = { initialMs: 20, maxMs: 200, factor: 2 };

interface Node {
  transport: SshTransport;
  inbox: { from: string; lane: Lane; message: Record<string, unknown> }[];
  problems: TransportProblem[];
}

async function startNode(id: string, peerSocketPath?: string): Promise<Node> {
  const [host, client] = await Promise.all([keyFor(`${id}-host`), keyFor(`${id}-client`)]);
  const node: Node = { transport: null as unknown as SshTransport, inbox: [], problems: [] };
  node.transport = await SshTransport.start({
    nodeId: id,
    listenHost: '127.0.0.1',
    listenPort: 0,
    ...(peerSocketPath === undefined ? {} : { peerSocketPath }),
    hostPrivateKey: host.privateKey,
    clientPrivateKey: client.privateKey,
    peers: [],
    backoff: FAST_BACKOFF,
    onProblem: (problem) => node.problems.push(problem),
  });
  node.transport.onMessage((message, from, lane) => node.inbox.push({ from, lane, message: message as Record<string, unknown> }));
  return node;
}

async function address(id: string, port: number): Promise<PeerAddress> {
  const [host, client] = await Promise.all([keyFor(`${id}-host`), keyFor(`${id}-client`)]);
  return { id, host: '127.0.0.1', port, hostPublicKey: host.publicKey, clientPublicKey: client.publicKey };
}

function linksUp(node: Node, peer: string): boolean {
  const stats = node.transport.stats()[peer];
  return stats?.control.up === true && stats.bulk.up;
}

test('a peer reached only through sshd: messages flow both ways; a wrong sshd host key or socket path is refused', async (t) => {
  if (!(await sshdInstalled())) {
    t.skip(`${SSHD} is missing: install Debian's openssh-server to run the tunnel test`);
    return;
  }
  await withTempDir(async (dir) => {
    const stateDir = join(dir, 'b-state');
    await mkdir(stateDir, { mode: 0o700 });
    const socketPath = join(stateDir, 'peer.sock');
    let sshd: Sshd | null = null;
    let a: Node | null = null;
    let b: Node | null = null;
    try {
      // b's sshd lets in a's node client key for forwarding only (the admin's step in tunnel mode).
      sshd = await startSshd(dir, [`restrict,port-forwarding,command="/bin/false" ${(await keyFor('a-client')).publicKey}`]);
      b = await startNode('b', socketPath);
      a = await startNode('a');
      assert.equal((await stat(socketPath)).mode & 0o777, 0o600);

      // b's agent port, as a sees it, is closed: only the tunnel can carry a's links.
      const tunnel = { sshHost: '127.0.0.1', sshPort: sshd.port, sshUser: 'root', sshHostKey: sshd.hostPublicKey, socketPath };
      const bViaSshd: PeerAddress = { ...(await address('b', await freePort())), tunnel };
      assert.deepEqual(validatePeerTable([bViaSshd]), []);
      a.transport.updatePeers([await address('a', a.transport.port), bViaSshd]);
      b.transport.updatePeers([await address('a', a.transport.port), await address('b', b.transport.port)]);
      const [na, nb, server] = [a, b, sshd];
      await waitFor(() => linksUp(na, 'b') && linksUp(nb, 'a'), 'links up both ways').catch((err: Error) => {
        const problems = [...new Set(na.problems.map((p) => `${p.code}: ${p.message}`))].join('\n');
        throw new Error(`${err.message}; a's problems:\n${problems}\nsshd said:\n${server.log().slice(-4000)}`);
      });

      // Control both ways, and a bulk message large enough for the codec worker.
      const snapshot = { type: 'snapshot', data: 'é'.repeat(600 * 1024) };
      assert.equal(a.transport.send('b', { type: 'ping', n: 1 }, 'control'), true);
      assert.equal(a.transport.send('b', snapshot, 'bulk'), true);
      assert.equal(b.transport.send('a', { type: 'pong', n: 1 }, 'control'), true);
      await waitFor(() => nb.inbox.length === 2 && na.inbox.length === 1, 'messages both ways');
      assert.deepEqual(nb.inbox.find((m) => m.lane === 'control'), { from: 'a', lane: 'control', message: { type: 'ping', n: 1 } });
      assert.deepEqual(nb.inbox.find((m) => m.lane === 'bulk'), { from: 'a', lane: 'bulk', message: snapshot });
      assert.deepEqual(na.inbox, [{ from: 'b', lane: 'control', message: { type: 'pong', n: 1 } }]);
      assert.deepEqual(na.problems, []);

      // The same tunnel with another key pinned for sshd: the links drop and stay down.
      const impostor = (await keyFor('not-sshd')).publicKey;
      a.transport.updatePeers([await address('a', a.transport.port), { ...bViaSshd, tunnel: { ...tunnel, sshHostKey: impostor } }]);
      await waitFor(
        () => na.problems.filter((p) => p.code === 'E_HOST_KEY_MISMATCH' && p.peer === 'b' && p.message.includes('sshd')).length >= 2,
        'refused attempts against the wrong sshd key',
      );
      assert.equal(linksUp(na, 'b'), false);
      assert.equal(a.transport.send('b', { type: 'lost' }, 'control'), false);

      // The right sshd, but a socket path where no agent listens: sshd refuses to forward.
      const nowhere = { ...tunnel, socketPath: join(stateDir, 'no-agent.sock') };
      a.transport.updatePeers([await address('a', a.transport.port), { ...bViaSshd, tunnel: nowhere }]);
      await waitFor(() => na.problems.some((p) => p.code === 'E_TUNNEL_REFUSED' && p.peer === 'b'), 'sshd refusing to forward');
    } finally {
      await Promise.all([a?.transport.close(), b?.transport.close()]);
      await sshd?.stop();
    }
  });
});

test('the peer socket is mode 0600; a stale one is replaced, a live one or a plain file refused', async () => {
  await withTempDir(async (dir) => {
    const hostKey = (await keyFor('b-host')).privateKey;
    const start = (socketPath: string) => SshServer.start({ host: '127.0.0.1', port: 0, socketPath, hostKey, authorizedKeys: () => null });

    // A socket file nobody listens on, as a crashed agent leaves it.
    const stalePath = join(dir, 'stale.sock');
    await leaveStaleSocket(stalePath);
    const server = await start(stalePath);
    try {
      assert.equal((await stat(stalePath)).mode & 0o777, 0o600);
      await assert.rejects(start(stalePath), (err: unknown) => err instanceof TransportError && err.code === 'E_SOCKET_IN_USE');
    } finally {
      await server.close();
    }

    const plainPath = join(dir, 'plain');
    await writeFile(plainPath, 'not a socket');
    await assert.rejects(start(plainPath), (err: unknown) => err instanceof TransportError && err.code === 'E_SOCKET_IN_USE');
  });
});

test('tunnel entries are checked with the rest of the peer table', async () => {
  const [host, client] = await Promise.all([keyFor('b-host'), keyFor('b-client')]);
  const problems = validatePeerTable([{
    id: 'b',
    host: '127.0.0.1',
    port: 7000,
    hostPublicKey: host.publicKey,
    clientPublicKey: client.publicKey,
    tunnel: { sshHost: '', sshPort: 70000, sshUser: '', sshHostKey: 'ssh-ed25519 junk', socketPath: 'peer.sock' },
  }]);
  assert.deepEqual(problems.map((p) => p.code), ['E_PEER_INVALID', 'E_PEER_INVALID', 'E_PEER_INVALID', 'E_PEER_INVALID', 'E_KEY_INVALID']);
});

/** Runs a process that listens on `path`, then SIGKILLs it (by PID): the socket file stays behind. */
async function leaveStaleSocket(path: string): Promise<void> {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', () => reject(new Error('the listener exited early')));
    });
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}
