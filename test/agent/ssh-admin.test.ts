// The agent's SSH server for admins: an unknown key is refused; an admin
// key from the state directory's authorized_keys may open the JSON-lines API
// (`fcm-api`) or run an fcm command line in-process, with ssh2 and with
// plain OpenSSH; the change it makes is recorded with its key's fingerprint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { AuditRecord } from '../../src/agent/db/audit.js';
import type { ClusterStatus } from '../../src/client/api.js';
import { generateNodeKeyPair } from '../../src/agent/transport/keys.js';
import { call, startAgent, stopAgent, tempDir } from './helpers.js';
import type { AgentProcess } from './helpers.js';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

function login(port: number, privateKey: string): Promise<{ ok: true; client: SshClient } | { ok: false; level: string | undefined }> {
  return new Promise((resolve) => {
    const client = new Client();
    client.on('ready', () => resolve({ ok: true, client }));
    client.on('error', (err: Error & { level?: string }) => {
      resolve({ ok: false, level: err.level });
      client.end();
    });
    client.connect({ host: '127.0.0.1', port, username: 'admin', privateKey, readyTimeout: 5000 });
  });
}

function exec(client: SshClient, command: string, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream: ClientChannel) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (d: Buffer) => { stdout += d.toString(); });
      stream.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      stream.on('exit', (c: number | null) => { code = c; });
      stream.on('close', () => resolve({ code, stdout, stderr }));
      if (input !== undefined) stream.end(input);
    });
  });
}

test('admins over SSH: unknown keys refused, fcm-api and command lines served, changes recorded by key', async (t) => {
  const dir = await tempDir('fcm-agent-ssh-');
  const stateDir = join(dir.path, 'n1');
  let agent: AgentProcess | undefined;
  let client: SshClient | undefined;
  try {
    const [admin, stranger] = await Promise.all([generateNodeKeyPair('admin'), generateNodeKeyPair('stranger')]);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFile(join(stateDir, 'authorized_keys'), `# admins\nno-pty ${admin.publicKey}\n`);
    agent = await startAgent(stateDir, 'n1');
    await call(agent.socket, 'cluster.create', { name: 'c' });
    const port = Number(agent.address.split(':')[1]);

    const refused = await login(port, stranger.privateKey);
    assert.equal(refused.ok, false);
    assert.equal(refused.ok === false && refused.level, 'client-authentication');

    const admitted = await login(port, admin.privateKey);
    assert.ok(admitted.ok);
    client = admitted.client;

    // fcm-api: the socket's protocol over an SSH channel.
    const api = await exec(client, 'fcm-api', `${JSON.stringify({ id: 7, method: 'agent.identity' })}\n`);
    assert.equal(api.code, 0);
    const answer = JSON.parse(api.stdout.trim()) as { id: number; result: { name: string } };
    assert.equal(answer.id, 7);
    assert.equal(answer.result.name, 'n1');

    // A command line, run in-process against this agent.
    const status = await exec(client, 'status --json');
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as ClusterStatus).cluster.name, 'c');
    const missing = await exec(client, "fcm node show 'no such' --json");
    assert.notEqual(missing.code, 0);
    const set = await exec(client, 'config set historyLimit=600 --json');
    assert.equal(set.code, 0, set.stdout + set.stderr);
    const history = await call<AuditRecord[]>(agent.socket, 'config.history', { type: 'property' });
    assert.equal(history.at(-1)?.actor, admin.fingerprint);
    assert.equal((await exec(client, 'config set "historyLimit=6')).code, 2, 'an unbalanced quote is a usage error');
    assert.equal((await exec(client, '--json agent run --state-dir /tmp/nested')).code, 4, 'no agent inside the agent');

    // Plain OpenSSH, where it is installed.
    if (spawnSync('ssh', ['-V']).error === undefined) {
      const keyFile = join(dir.path, 'admin_key');
      await writeFile(keyFile, admin.privateKey, { mode: 0o600 });
      const ssh = spawn('ssh', [
        '-p', String(port), '-i', keyFile, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
        'admin@127.0.0.1', 'status', '--json',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      ssh.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      ssh.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const code = await new Promise<number | null>((resolve) => ssh.once('exit', resolve));
      assert.equal(code, 0, err);
      assert.equal((JSON.parse(out) as ClusterStatus).leader?.name, 'n1');
    } else {
      t.diagnostic('OpenSSH client not installed: its part of this test was skipped');
    }
  } finally {
    client?.end();
    if (agent) await stopAgent(agent, 'SIGKILL');
    await dir.remove();
  }
});
