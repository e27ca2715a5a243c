// Node keys: one ed25519 key pair per node, in OpenSSH format, so the same
// files serve ssh2 (host key, client key) and OpenSSH (`ssh -i`,
// `ssh-keygen -lf`). Made once on first start, loaded afterwards.

import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { TransportError } from './errors.js';

const { utils } = ssh2;
const generateKeyPairAsync = promisify(generateKeyPair);

export interface NodeKeyPair {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  privateKey: string;
  /** One line: `ssh-ed25519 AAAA... comment`. */
  publicKey: string;
  /** `SHA256:<base64>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/**
 * Makes a new ed25519 key pair off the event loop (node:crypto's async
 * generator) and writes it in OpenSSH's format ourselves: ssh2's own
 * generator drops a leading zero byte of the public key, so about one key in
 * 256 it makes cannot be parsed (mscdex/ssh2#1390, #1513).
 */
export async function generateNodeKeyPair(comment: string): Promise<NodeKeyPair> {
  const { privateKey } = await generateKeyPairAsync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new TransportError('E_KEY_INVALID', 'node:crypto returned an ed25519 key without its parts');
  }
  const seed = Buffer.from(jwk.d, 'base64url');
  const publicBytes = Buffer.from(jwk.x, 'base64url');
  return describePrivateKey(encodeOpenSshEd25519(seed, publicBytes, comment), comment);
}

/** An SSH wire `string`: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The unencrypted `openssh-key-v1` container (OpenSSH's PROTOCOL.key) for one ed25519 key. */
export function encodeOpenSshEd25519(seed: Buffer, publicBytes: Buffer, comment: string): string {
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(publicBytes)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check, check,
    sshString('ssh-ed25519'), sshString(publicBytes), sshString(Buffer.concat([seed, publicBytes])), sshString(comment),
  ]);
  // Pad to the cipher block size (8 for "none") with 1, 2, 3, ...
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  secret = Buffer.concat([secret, padding]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'), sshString('none'), sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(secret),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/**
 * Loads `<dir>/<name>` (private, mode 0600) or, if absent, generates it and
 * writes it with `<dir>/<name>.pub`. Two processes starting at once end up
 * with the same key: the file is published with link(2), which refuses to
 * replace an existing one, and the loser loads the winner's key.
 */
export async function loadOrCreateNodeKey(dir: string, name: string, comment: string): Promise<NodeKeyPair> {
  const path = join(dir, name);
  const existing = await loadNodeKey(path);
  if (existing) return existing;

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await generateNodeKeyPair(comment);
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeDurably(temp, pair.privateKey, 0o600);
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp);
  }
  await syncDirectory(dir);
  const stored = await loadNodeKey(path);
  if (!stored) throw new TransportError('E_KEY_INVALID', `${path} vanished while being created`);
  await writeDurably(`${path}.pub`, `${stored.publicKey}\n`, 0o644);
  return stored;
}

/** Reads a private key file; null if it does not exist. Refuses a file others can read, as OpenSSH does. */
export async function loadNodeKey(path: string): Promise<NodeKeyPair | null> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new TransportError('E_KEY_PERMISSIONS', `${path} is accessible by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return describePrivateKey(await readFile(path, 'utf8'));
}

/** Parses an OpenSSH private key and derives its public line and fingerprint. */
export function describePrivateKey(privateKey: string, comment?: string): NodeKeyPair {
  const parsed = parseOne(privateKey);
  if (!parsed.isPrivateKey()) throw new TransportError('E_KEY_INVALID', 'expected a private key, got a public one');
  const blob = parsed.getPublicSSH();
  const label = comment ?? parsed.comment;
  const publicKey = `${parsed.type} ${blob.toString('base64')}${label ? ` ${label}` : ''}`;
  return { privateKey, publicKey, fingerprint: fingerprintOfBlob(blob) };
}

/** The SSH wire form of a public key line (`type base64 [comment]`): what hosts and logins present. */
export function publicKeyBlob(publicKey: string): Buffer {
  const parsed = parseOne(publicKey);
  if (parsed.isPrivateKey()) throw new TransportError('E_KEY_INVALID', 'expected a public key line, got a private key');
  return parsed.getPublicSSH();
}

/** `SHA256:<unpadded base64>` of a public key line. */
export function fingerprint(publicKey: string): string {
  return fingerprintOfBlob(publicKeyBlob(publicKey));
}

export function fingerprintOfBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function parseOne(text: string | Buffer): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw new TransportError('E_KEY_INVALID', `cannot parse key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new TransportError('E_KEY_INVALID', 'key file holds no key');
  return key;
}

async function writeDurably(path: string, text: string, mode: number): Promise<void> {
  const file = await open(path, 'w', mode);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  // open()'s mode is filtered by the umask; set it exactly.
  await chmod(path, mode);
}

/** A new key must survive a crash: the cluster database pins it, and a regenerated one would be refused. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
