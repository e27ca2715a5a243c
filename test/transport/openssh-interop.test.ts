// OpenSSH's own client against the embedded server: an admin runs a command
// through the exec hook, and a wrong pinned host key makes ssh refuse.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadOrCreateNodeKey, publicKeyBlob } from '../../src/agent/transport/keys.js';
import { SshServer } from '../../src/agent/transport/server.js';
import { keyFor, withTempDir } from './helpers.js';

const run = promisify(execFile);

async function sshInstalled(): Promise<boolean> {
  try {
    await run('which', ['ssh']);
    return true;
  } catch {
    return false;
  }
}

test('OpenSSH ssh reaches the exec hook with the admin identity', async (t) => {
  if (!(await sshInstalled())) {
    t.skip('OpenSSH client (ssh) is not installed; CI installs openssh-client');
    return;
  }
  await withTempDir(async (dir) => {
    const host = await keyFor('interop-host');
    const admin = await loadOrCreateNodeKey(dir, 'admin_ed25519', 'alice');
    const adminBlob = publicKeyBlob(admin.publicKey);
    const server = await SshServer.start({
      host: '127.0.0.1',
      port: 0,
      hostKey: host.privateKey,
      authorizedKeys: (key) => (key.data.equals(adminBlob) ? { kind: 'admin', name: 'alice', role: 'operator' } : null),
      onExec: (identity, command, channel) => {
        channel.write(`${identity.kind === 'admin' ? identity.name : '?'}: ${command}\n`);
        channel.exit(3);
        channel.end();
      },
    });
    try {
      const port = server.port;
      const knownHosts = join(dir, 'known_hosts');
      const wrongHosts = join(dir, 'wrong_hosts');
      await writeFile(knownHosts, `[127.0.0.1]:${port} ${host.publicKey}\n`);
      await writeFile(wrongHosts, `[127.0.0.1]:${port} ${(await keyFor('interop-other')).publicKey}\n`);
      const sshArgs = (hostsFile: string) => [
        '-F', '/dev/null',
        '-i', join(dir, 'admin_ed25519'),
        '-p', String(port),
        '-o', 'BatchMode=yes',
        '-o', 'IdentitiesOnly=yes',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${hostsFile}`,
        '-o', 'ConnectTimeout=5',
        'alice@127.0.0.1',
        'cluster status',
      ];
      const ok = await run('ssh', sshArgs(knownHosts), { timeout: 15_000 }).then(
        () => assert.fail('expected exit status 3 from the hook'),
        (err: { code?: number; stdout?: string }) => err,
      );
      assert.equal(ok.code, 3);
      assert.equal(ok.stdout, 'alice: cluster status\n');

      const refused = await run('ssh', sshArgs(wrongHosts), { timeout: 15_000 }).then(
        () => assert.fail('ssh should refuse a host whose key differs from known_hosts'),
        (err: { code?: number; stderr?: string }) => err,
      );
      assert.equal(refused.code, 255);
      assert.match(refused.stderr ?? '', /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    } finally {
      await server.close();
    }
  });
});
