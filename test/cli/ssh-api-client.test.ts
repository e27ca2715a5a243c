// The SSH client against an ssh2 server that serves the API on `exec fcm-api`
// (a double for the agent's embedded server, which has its own tests):
// host keys pinned on first use and refused when they change, logins
// refused, credentials missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import { ApiCallError } from '../../src/client/agent-client.js';
import { blobFingerprint, checkHostKey, hostEntryName, knownHostsFile } from '../../src/client/known-hosts.js';
import { SshApiClient, sshCredentials } from '../../src/client/ssh-api-client.js';
import type { SshApiClientOptions } from '../../src/client/ssh-api-client.js';
import { generateNodeKeyPair } from '../../src/agent/transport/keys.js';
import { serveStream } from './test-agent.js';

const { Server, utils } = ssh2;

interface TestSshAgent {
  port: number;
  /** Exec commands the clients ran. */
  commands: string[];
  close(): Promise<void>;
}

/** Our generator, not ssh2's: ssh2's makes an unparseable ed25519 key one time in 256 (mscdex/ssh2#1513). */
async function keyPair(): Promise<{ private: string; public: string }> {
  const pair = await generateNodeKeyPair('test');
  return { private: pair.privateKey, public: pair.publicKey };
}

/** Accepts `adminPublicKey` (signature checked), serves the API on exec fcm-api, refuses other commands. */
async function startSshAgent(hostKey: string, adminPublicKey: string, port = 0): Promise<TestSshAgent> {
  const admin = utils.parseKey(adminPublicKey);
  if (admin instanceof Error) throw admin;
  const adminKey = Array.isArray(admin) ? admin[0] : admin;
  const commands: string[] = [];
  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey] }, (connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', () => {});
    connection.on('authentication', (ctx) => {
      const same = ctx.method === 'publickey' && adminKey !== undefined && ctx.key.data.equals(adminKey.getPublicSSH());
      if (!same) return ctx.reject(['publickey']);
      if (ctx.signature === undefined) return ctx.accept();
      return adminKey.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
    });
    connection.on('session', (accept) => {
      accept().on('exec', (acceptExec, rejectExec, info) => {
        commands.push(info.command);
        if (info.command !== 'fcm-api') return rejectExec();
        const channel = acceptExec();
        serveStream(channel, { 'agent.identity': async () => ({ name: 'node1' }) }, []);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    commands,
    close: () => new Promise<void>((resolve) => {
      for (const connection of connections) connection.end();
      server.close(() => resolve());
    }),
  };
}

async function withTemp<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-ssh-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const isCode = (code: string) => (err: unknown) => err instanceof ApiCallError && err.code === code;

test('first use pins the host key with a warning; later connections use it silently; a changed key is refused', async () => {
  await withTemp(async (dir) => {
    const admin = await keyPair();
    const identityFile = join(dir, 'id');
    await writeFile(identityFile, admin.private, { mode: 0o600 });
    const known = join(dir, 'known_hosts');
    const warnings: string[] = [];
    const hostKey = await keyPair();
    const agent = await startSshAgent(hostKey.private, admin.public);
    const options: SshApiClientOptions = {
      host: '127.0.0.1', port: agent.port, identityFile, knownHostsFile: known,
      callTimeoutMs: 5000, connectTimeoutMs: 5000, warn: (m) => warnings.push(m), env: {}, home: dir,
    };
    try {
      const first = await SshApiClient.connect(options);
      assert.equal((await first.call('agent.identity', {})).name, 'node1');
      await first.close();
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /first connection to \[127\.0\.0\.1\]:\d+: trusting its host key SHA256:/);
      assert.deepEqual(agent.commands, ['fcm-api']);
      assert.match(await readFile(known, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${agent.port} ssh-ed25519 \\S+\\n$`));

      const second = await SshApiClient.connect(options);
      assert.equal((await second.call('agent.identity', {})).name, 'node1');
      await second.close();
      assert.equal(warnings.length, 1, 'no warning for a known key');
    } finally {
      await agent.close();
    }

    // Someone else on the same address: another host key.
    const impostor = await startSshAgent((await keyPair()).private, admin.public, agent.port);
    try {
      const before = await readFile(known, 'utf8');
      await assert.rejects(SshApiClient.connect(options), (err: unknown) =>
        isCode('E_HOST_KEY_MISMATCH')(err) && (err as ApiCallError).hint?.includes(hostEntryName('127.0.0.1', agent.port)) === true);
      assert.equal(await readFile(known, 'utf8'), before, 'the pinned key is kept');
      assert.deepEqual(impostor.commands, [], 'nothing ran on the impostor');
    } finally {
      await impostor.close();
    }
  });
});

test('a key the node does not accept is E_AUTH; a port with nothing on it is E_UNAVAILABLE', async () => {
  await withTemp(async (dir) => {
    const stranger = await keyPair();
    const identityFile = join(dir, 'id');
    await writeFile(identityFile, stranger.private, { mode: 0o600 });
    const agent = await startSshAgent((await keyPair()).private, (await keyPair()).public);
    const options: SshApiClientOptions = {
      host: '127.0.0.1', port: agent.port, identityFile, knownHostsFile: join(dir, 'known_hosts'),
      callTimeoutMs: 5000, connectTimeoutMs: 5000, warn: () => {}, env: {}, home: dir,
    };
    try {
      await assert.rejects(SshApiClient.connect(options), isCode('E_AUTH'));
    } finally {
      await agent.close();
    }
    await assert.rejects(SshApiClient.connect(options), isCode('E_UNAVAILABLE'));
  });
});

test('credentials: --identity, else ssh-agent, else ~/.ssh/id_ed25519, else E_NO_CREDENTIALS', async () => {
  await withTemp(async (dir) => {
    await assert.rejects(sshCredentials(undefined, {}, dir), isCode('E_NO_CREDENTIALS'));
    await assert.rejects(sshCredentials(join(dir, 'missing'), {}, dir), isCode('E_NO_CREDENTIALS'));
    assert.deepEqual(await sshCredentials(undefined, { SSH_AUTH_SOCK: '/run/agent.sock' }, dir), { agent: '/run/agent.sock', source: 'ssh-agent (/run/agent.sock)' });
    await mkdir(join(dir, '.ssh'));
    await writeFile(join(dir, '.ssh', 'id_ed25519'), 'KEY');
    assert.deepEqual(await sshCredentials(undefined, {}, dir), { privateKey: 'KEY', source: join(dir, '.ssh', 'id_ed25519') });
    await writeFile(join(dir, 'given'), 'GIVEN');
    assert.deepEqual(await sshCredentials(join(dir, 'given'), { SSH_AUTH_SOCK: '/run/agent.sock' }, dir), { privateKey: 'GIVEN', source: join(dir, 'given') });
  });
});

test('known_hosts: the XDG config dir, and a check that tells known, new and changed keys apart', async () => {
  assert.equal(knownHostsFile({ XDG_CONFIG_HOME: '/x/config' }, '/home/a'), '/x/config/fcm/known_hosts');
  assert.equal(knownHostsFile({ XDG_CONFIG_HOME: 'relative' }, '/home/a'), '/home/a/.config/fcm/known_hosts');
  await withTemp(async (dir) => {
    const file = join(dir, 'known_hosts');
    const blobOf = (pub: string): Buffer => {
      const parsed = utils.parseKey(pub);
      if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('bad key');
      return parsed.getPublicSSH();
    };
    const a = blobOf((await keyPair()).public);
    const b = blobOf((await keyPair()).public);
    await writeFile(file, `# comment\n${hostEntryName('h', 1)} ssh-ed25519 ${a.toString('base64')}\n`);
    assert.deepEqual(await checkHostKey(file, 'h', 1, a), { status: 'known' });
    assert.deepEqual(await checkHostKey(file, 'h', 2, a), { status: 'new' });
    assert.deepEqual(await checkHostKey(file, 'h', 1, b), { status: 'mismatch', pinned: [blobFingerprint(a)] });
    assert.deepEqual(await checkHostKey(join(dir, 'none'), 'h', 1, a), { status: 'new' });
  });
});
