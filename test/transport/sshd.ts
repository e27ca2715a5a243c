// A private OpenSSH sshd for tunnel tests: Debian's /usr/sbin/sshd (package
// openssh-server) on 127.0.0.1 only, with its own host key, config, pid file
// and authorized_keys in a temp dir; stopped by its PID.

import { execFile, spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  /** `ssh-ed25519 AAAA...`: the line to pin. */
  hostPublicKey: string;
  pid: number;
  /** What sshd wrote to stderr so far (-e), for failure messages. */
  log(): string;
  /** SIGTERM by PID, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export async function sshdInstalled(): Promise<boolean> {
  try {
    await access(SSHD);
    return true;
  } catch {
    return false;
  }
}

/** The config the tunnel test runs sshd with (the port comes from -p). */
export function sshdConfig(dir: string): string {
  return [
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // No PAM stack in a container; and the temp dir lives under the world-writable /tmp.
    'UsePAM no',
    'StrictModes no',
    // What tunnel mode needs: OpenSSH grants local streamlocal forwarding only
    // when local TCP forwarding is allowed too (session.c: channel_permit_all).
    'AllowStreamLocalForwarding local',
    'AllowTcpForwarding local',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Starts sshd in `dir` (which must exist), letting in the given public key lines. */
export async function startSshd(dir: string, authorizedKeys: string[]): Promise<Sshd> {
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-sshd', '-f', hostKeyPath]);
  const hostPublicKey = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim();
  await writeFile(join(dir, 'authorized_keys'), authorizedKeys.map((key) => `${key}\n`).join(''), { mode: 0o600 });
  const configPath = join(dir, 'sshd_config');
  await writeFile(configPath, sshdConfig(dir));
  // sshd's privilege separation directory; systemd makes it on a real host.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${SSHD}`);
  const sshd: Sshd = {
    port,
    hostPublicKey,
    pid,
    log: () => stderr,
    stop: async () => {
      if (!running) return;
      process.kill(pid, 'SIGTERM');
      const killer = setTimeout(() => running && process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  try {
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (!running) throw new Error(`sshd exited before listening:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`sshd not listening on ${port} after 10 s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch (err) {
    await sshd.stop();
    throw err;
  }
  return sshd;
}

/** A port nothing listens on now (it was free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
