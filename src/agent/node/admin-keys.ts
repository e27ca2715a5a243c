// Who may log in to the agent's SSH server besides its peers: the admin keys
// of the cluster database (with their roles), and the keys in the state
// directory's `authorized_keys` file (role admin): the way in before a
// cluster exists. Peers (the cluster's own node keys) are recognised by the
// transport first. An admin is named by the key's fingerprint, which is the
// actor recorded in the audit history.
import { readFile } from 'node:fs/promises';
import type { PublicKey } from 'ssh2';
import type { AdminKeyRecord } from '../db/schema.js';
import { fingerprintOfBlob, publicKeyBlob } from '../transport/keys.js';
import type { Identity } from '../transport/server.js';
import type { Logger } from './logger.js';

export const AUTHORIZED_KEYS_FILE = 'authorized_keys';

const KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))$/;

export class AdminKeys {
  /** Key blob (base64) → fingerprint, from the authorized_keys file. */
  private fileKeys = new Map<string, string>();

  constructor(private readonly databaseKeys: () => AdminKeyRecord[]) {}

  /** (Re)reads the file; a missing file means no keys. Lines that are not keys are skipped with a warning. */
  async loadFile(path: string, log: Logger): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.fileKeys = new Map();
        return;
      }
      throw err;
    }
    const keys = new Map<string, string>();
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      // OpenSSH lines may start with options; the key starts at its type word.
      const words = line.split(/\s+/);
      const at = words.findIndex((w) => KEY_TYPE.test(w));
      try {
        if (at === -1) throw new Error('no key type');
        const blob = publicKeyBlob(words.slice(at, at + 2).join(' '));
        keys.set(blob.toString('base64'), fingerprintOfBlob(blob));
      } catch {
        log.warn('authorized_keys: line skipped, not a public key', { path, line: i + 1 });
      }
    }
    this.fileKeys = keys;
  }

  lookup(key: PublicKey): Identity | null {
    const blob = key.data.toString('base64');
    for (const record of this.databaseKeys()) {
      if (blobOf(record.publicKey) === blob) return { kind: 'admin', name: record.fingerprint, role: record.role };
    }
    const fingerprint = this.fileKeys.get(blob);
    return fingerprint === undefined ? null : { kind: 'admin', name: fingerprint, role: 'admin' };
  }
}

function blobOf(publicKey: string): string | null {
  try {
    return publicKeyBlob(publicKey).toString('base64');
  } catch {
    return null;
  }
}
