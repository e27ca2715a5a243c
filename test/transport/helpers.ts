// Shared pieces for the transport tests: keys, a raw ssh2 client to play a
// misbehaving peer, and bounded waiting.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { generateNodeKeyPair } from '../../src/agent/transport/keys.js';
import type { NodeKeyPair } from '../../src/agent/transport/keys.js';

const { Client } = ssh2;
export type RawClient = InstanceType<typeof Client>;

const keyCache = new Map<string, Promise<NodeKeyPair>>();

/** One key pair per name for the whole test file (generation is cheap, but this keeps runs quick). */
export function keyFor(name: string): Promise<NodeKeyPair> {
  let pair = keyCache.get(name);
  if (!pair) {
    pair = generateNodeKeyPair(name);
    keyCache.set(name, pair);
  }
  return pair;
}

/** Polls `condition` every 10 ms until it holds; fails after `limitMs`. */
export async function waitFor(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export type LoginOutcome = { ok: true; client: RawClient } | { ok: false; level: string | undefined; message: string };

/** Connects a raw ssh2 client and reports whether the login succeeded. The caller ends a successful client. */
export function tryLogin(config: ConnectConfig): Promise<LoginOutcome> {
  return new Promise((resolve) => {
    const client = new Client();
    let settled = false;
    client.on('ready', () => {
      settled = true;
      resolve({ ok: true, client });
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      resolve({ ok: false, level: err.level, message: err.message });
      client.end();
    });
    client.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ ok: false, level: undefined, message: 'closed before login' });
    });
    client.connect({ host: '127.0.0.1', readyTimeout: 5000, ...config });
  });
}

export function openSubsystem(client: RawClient, name: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.subsys(name, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}

/** Resolves when the client's connection has closed. */
export function closed(client: RawClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fcm-transport-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
