import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TransportError } from '../../src/agent/transport/errors.js';
import { fingerprint, loadNodeKey, loadOrCreateNodeKey } from '../../src/agent/transport/keys.js';
import { withTempDir } from './helpers.js';

const run = promisify(execFile);

function isCode(code: string) {
  return (err: unknown) => err instanceof TransportError && err.code === code;
}

async function hasProgram(name: string): Promise<boolean> {
  try {
    await run('which', [name]);
    return true;
  } catch {
    return false;
  }
}

test('first start creates a 0600 key in OpenSSH format; later starts load the same key', () =>
  withTempDir(async (dir) => {
    const keyDir = join(dir, 'keys');
    const made = await loadOrCreateNodeKey(keyDir, 'node_ed25519', 'fcm node a');
    assert.match(made.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
    assert.match(made.publicKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ fcm node a$/);
    assert.match(made.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(made.fingerprint, fingerprint(made.publicKey));
    assert.equal((await stat(join(keyDir, 'node_ed25519'))).mode & 0o777, 0o600);
    assert.equal((await stat(keyDir)).mode & 0o777, 0o700);
    assert.equal((await readFile(join(keyDir, 'node_ed25519.pub'), 'utf8')).trim(), made.publicKey);

    const again = await loadOrCreateNodeKey(keyDir, 'node_ed25519', 'ignored');
    assert.deepEqual(again, made);
  }));

test('two processes creating the key at once end up with one key', () =>
  withTempDir(async (dir) => {
    const [a, b] = await Promise.all([
      loadOrCreateNodeKey(dir, 'k', 'one'),
      loadOrCreateNodeKey(dir, 'k', 'two'),
    ]);
    assert.equal(a.publicKey, b.publicKey);
  }));

test('a private key readable by others is refused; an unparsable one too', () =>
  withTempDir(async (dir) => {
    const made = await loadOrCreateNodeKey(dir, 'k', 'x');
    await chmod(join(dir, 'k'), 0o644);
    await assert.rejects(loadNodeKey(join(dir, 'k')), isCode('E_KEY_PERMISSIONS'));
    await writeFile(join(dir, 'bad'), 'not a key', { mode: 0o600 });
    await assert.rejects(loadNodeKey(join(dir, 'bad')), isCode('E_KEY_INVALID'));
    assert.equal(await loadNodeKey(join(dir, 'absent')), null);
    assert.ok(made.publicKey.startsWith('ssh-ed25519 '));
  }));

test('OpenSSH reads the key and prints the same fingerprint', async (t) => {
  if (!(await hasProgram('ssh-keygen'))) {
    t.skip('ssh-keygen is not installed (CI installs openssh-client)');
    return;
  }
  await withTempDir(async (dir) => {
    const made = await loadOrCreateNodeKey(dir, 'k', 'fcm');
    const listed = await run('ssh-keygen', ['-lf', join(dir, 'k')]);
    assert.match(listed.stdout, new RegExp(`^256 ${made.fingerprint.replace(/[+/]/g, '\\$&')} `));
    // -y derives the public key from the private file: proves OpenSSH parses our private key.
    const derived = await run('ssh-keygen', ['-y', '-f', join(dir, 'k')]);
    assert.equal(derived.stdout.trim().split(' ').slice(0, 2).join(' '), made.publicKey.split(' ').slice(0, 2).join(' '));
  });
});
