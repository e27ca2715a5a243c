// Node keys: one ed25519 key pair per node, in OpenSSH format, so the same
// files serve ssh2 (host key, client key) and OpenSSH (`ssh -i`,
// `ssh-keygen -lf`). Made once on first start, loaded afterwards.

import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { TransportError } from './errors.js';

const { utils } = ssh2;

export interface NodeKeyPair {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  privateKey: string;
  /** One line: `ssh-ed25519 AAAA... comment`. */
  publicKey: string;
  /** `SHA256:<base64>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** Makes a new ed25519 key pair off the event loop (ssh2 uses node:crypto's async generator). */
export function generateNodeKeyPair(comment: string): Promise<NodeKeyPair> {
  return new Promise((resolve, reject) => {
    utils.generateKeyPair('ed25519', { comment }, (err, pair) => {
      if (err) {
        reject(err);
        return;
      }
      resolve(describePrivateKey(pair.private, comment));
    });
  });
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
