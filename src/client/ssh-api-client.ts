// The agent's API over SSH: log in to a node's embedded SSH server with the
// admin's own key, run `fcm-api`, and speak the same JSON lines as on the
// Unix socket. ssh2 costs ~33 ms to import, so it loads only here.
//
// The admin's key: --identity KEYFILE, else ssh-agent ($SSH_AUTH_SOCK), else
// ~/.ssh/id_ed25519. The node's host key is pinned in known_hosts
// (known-hosts.ts): recorded on first use with a warning, refused when it
// changes.
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { ApiCallError } from './agent-client.js';
import { blobFingerprint, checkHostKey, hostEntryName, recordHostKey } from './known-hosts.js';
import { StreamApiClient } from './stream-client.js';

/** The exec command that turns an SSH channel into the API. */
export const API_EXEC_COMMAND = 'fcm-api';

type Env = Readonly<Record<string, string | undefined>>;

export interface SshApiClientOptions {
  host: string;
  port: number;
  /** Login name; the agent authenticates by key, so this is informational. Default: the local user. */
  username?: string;
  /** --identity: a private key file. */
  identityFile?: string;
  knownHostsFile: string;
  /** Longest wait for one answer, ms. */
  callTimeoutMs: number;
  /** Longest wait for TCP connect + SSH handshake + login, ms. */
  connectTimeoutMs: number;
  /** Trust-on-first-use is said here. */
  warn(message: string): void;
  env?: Env;
  home?: string;
}

export type SshCredentials = { privateKey: string; source: string } | { agent: string; source: string };

/** --identity KEYFILE, else ssh-agent, else ~/.ssh/id_ed25519; E_NO_CREDENTIALS when there is none. */
export async function sshCredentials(identityFile: string | undefined, env: Env = process.env, home = homedir()): Promise<SshCredentials> {
  if (identityFile !== undefined) {
    try {
      return { privateKey: await readFile(identityFile, 'utf8'), source: identityFile };
    } catch (err) {
      throw new ApiCallError('E_NO_CREDENTIALS', `cannot read the key file ${identityFile}: ${(err as Error).message}`, 'give a private key file with --identity');
    }
  }
  const agent = env.SSH_AUTH_SOCK;
  if (agent !== undefined && agent !== '') return { agent, source: `ssh-agent (${agent})` };
  const fallback = join(home, '.ssh', 'id_ed25519');
  try {
    return { privateKey: await readFile(fallback, 'utf8'), source: fallback };
  } catch {
    throw new ApiCallError('E_NO_CREDENTIALS', 'no SSH key to log in with: no --identity, no ssh-agent ($SSH_AUTH_SOCK), no ~/.ssh/id_ed25519',
      'give a key with --identity KEYFILE, or add one to ssh-agent');
  }
}

export class SshApiClient extends StreamApiClient {
  static async connect(options: SshApiClientOptions): Promise<SshApiClient> {
    const credentials = await sshCredentials(options.identityFile, options.env, options.home);
    const { default: ssh2 } = await import('ssh2');
    const where = `${options.host}:${options.port}`;
    const socket = await dial(options.host, options.port, options.connectTimeoutMs);
    const connection = new ssh2.Client();
    let refusal: ApiCallError | undefined;
    const config: ConnectConfig = {
      sock: socket,
      username: options.username ?? userInfo().username,
      readyTimeout: options.connectTimeoutMs,
      ...('agent' in credentials ? { agent: credentials.agent } : { privateKey: credentials.privateKey }),
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(options, key).then(
          (problem) => {
            refusal = problem;
            verify(problem === undefined);
          },
          (err: unknown) => {
            refusal = new ApiCallError('E_HOST_KEY_UNVERIFIED', `cannot check the host key of ${where}: ${(err as Error).message}`);
            verify(false);
          },
        );
      },
    };
    await new Promise<void>((resolve, reject) => {
      connection.once('ready', () => resolve());
      connection.once('error', (err: Error & { level?: string }) => {
        socket.destroy();
        reject(refusal ?? loginError(where, err, credentials.source));
      });
      try {
        connection.connect(config);
      } catch (err) {
        // ssh2 parses the key synchronously: a passphrase-protected or garbled key fails here.
        socket.destroy();
        reject(new ApiCallError('E_NO_CREDENTIALS', `cannot use the key ${credentials.source}: ${(err as Error).message}`, 'use an unencrypted key file, or load the key into ssh-agent'));
      }
    });
    // Errors after login surface through the channel's close.
    connection.on('error', () => {});
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      connection.exec(API_EXEC_COMMAND, (err, stream) => {
        if (err) {
          connection.end();
          reject(new ApiCallError('E_UNAVAILABLE', `${where} does not serve the fcm API: ${err.message}`, 'is this an fcm agent\'s SSH port?'));
          return;
        }
        resolve(stream);
      });
    });
    // The agent writes nothing on stderr for fcm-api; drain it so a stray line cannot stall the channel.
    channel.stderr.resume();
    return new SshApiClient(channel, { callTimeoutMs: options.callTimeoutMs, peer: `the agent at ${where}`, onClose: () => connection.end() });
  }
}

function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    // Before the handshake: without it a third of handshakes stall ~40 ms (Nagle + delayed ACK).
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ApiCallError('E_TIMEOUT', `${host}:${port} did not accept a connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ApiCallError('E_UNAVAILABLE', `cannot reach ${host}:${port}: ${err.code ?? err.message}`, 'check the address and that the agent runs there (its SSH port)'));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** undefined when the key may be used; the refusal otherwise. */
async function verifyHostKey(options: SshApiClientOptions, blob: Buffer): Promise<ApiCallError | undefined> {
  const check = await checkHostKey(options.knownHostsFile, options.host, options.port, blob);
  const name = hostEntryName(options.host, options.port);
  if (check.status === 'known') return undefined;
  if (check.status === 'new') {
    await recordHostKey(options.knownHostsFile, options.host, options.port, blob);
    options.warn(`first connection to ${name}: trusting its host key ${blobFingerprint(blob)} (recorded in ${options.knownHostsFile})`);
    return undefined;
  }
  return new ApiCallError(
    'E_HOST_KEY_MISMATCH',
    `the host key of ${name} is ${blobFingerprint(blob)}, not the pinned ${check.pinned.join(' or ')}: refusing to connect`,
    `if the node was re-installed, remove the line for ${name} from ${options.knownHostsFile}; otherwise someone may be in the middle`,
  );
}

function loginError(where: string, err: Error & { level?: string }, source: string): ApiCallError {
  switch (err.level) {
    case 'client-authentication':
      return new ApiCallError('E_AUTH', `${where} refused the login with ${source}`, 'the node accepts only admin keys registered in the cluster; check --identity');
    case 'client-timeout':
      return new ApiCallError('E_TIMEOUT', `${where} did not finish the SSH handshake in time`);
    default:
      return new ApiCallError('E_UNAVAILABLE', `SSH to ${where} failed: ${err.message}`);
  }
}
