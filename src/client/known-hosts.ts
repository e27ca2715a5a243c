// The host keys of the nodes an admin has reached over SSH, pinned the way
// OpenSSH's known_hosts does it: the first connection records the key (with
// a warning), later ones must present the same key.
//
//   ~/.config/fcm/known_hosts     one line per host:  [host]:port ssh-ed25519 AAAA...
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** $XDG_CONFIG_HOME/fcm/known_hosts (absolute XDG_CONFIG_HOME only), else ~/.config/fcm/known_hosts. */
export function knownHostsFile(env: Env = process.env, home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.config'), 'fcm', 'known_hosts');
}

/** The name a host is filed under: `[host]:port`, as OpenSSH writes non-default ports. */
export function hostEntryName(host: string, port: number): string {
  return `[${host}]:${port}`;
}

/** The key's algorithm, read from the SSH wire blob (string algorithm, then key data). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && 4 + length <= blob.length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/** `SHA256:<unpadded base64>`, as ssh-keygen -lf prints it. */
export function blobFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyCheck =
  | { status: 'known' }
  /** Never seen: trust on first use. */
  | { status: 'new' }
  /** Pinned to another key: the host was re-installed, or someone is in the middle. */
  | { status: 'mismatch'; pinned: string[] };

export async function checkHostKey(file: string, host: string, port: number, blob: Buffer): Promise<HostKeyCheck> {
  const name = hostEntryName(host, port);
  const offered = blob.toString('base64');
  const pinned: string[] = [];
  for (const line of (await readKnownHosts(file)).split('\n')) {
    const [entry, type, key] = line.trim().split(/\s+/);
    if (entry !== name || type === undefined || key === undefined) continue;
    if (key === offered) return { status: 'known' };
    pinned.push(blobFingerprint(Buffer.from(key, 'base64')));
  }
  return pinned.length === 0 ? { status: 'new' } : { status: 'mismatch', pinned };
}

export async function recordHostKey(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${hostEntryName(host, port)} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
