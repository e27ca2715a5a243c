// Our OpenSSH encoding of ed25519 keys must hold for every key, including
// the one in 256 whose public key starts with a zero byte (the case ssh2's
// own generator gets wrong: mscdex/ssh2#1513).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import ssh2 from 'ssh2';
import { encodeOpenSshEd25519 } from '../../src/agent/transport/keys.js';

/** PKCS#8 prefix of an ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function publicKeyOf(seed: Buffer): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

test('a key whose public half starts with a zero byte encodes, parses, signs and verifies', () => {
  let seed: Buffer | null = null;
  for (let i = 0; i < 5_000 && !seed; i++) {
    const candidate = Buffer.alloc(32);
    candidate.writeUInt32BE(i);
    if (publicKeyOf(candidate)[0] === 0) seed = candidate;
  }
  assert.ok(seed, 'a seed with a leading-zero public key exists among the first 5,000');
  const publicBytes = publicKeyOf(seed);
  const parsed = ssh2.utils.parseKey(encodeOpenSshEd25519(seed, publicBytes, 'zero'));
  assert.ok(!(parsed instanceof Error), parsed instanceof Error ? parsed.message : '');
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  assert.equal(key.type, 'ssh-ed25519');
  assert.equal(key.comment, 'zero');
  const signature = key.sign(Buffer.from('challenge'));
  assert.equal(key.verify(Buffer.from('challenge'), signature), true);
  assert.deepEqual(key.getPublicSSH().subarray(-32), publicBytes);
});
