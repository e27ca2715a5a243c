// fcm agent run: one node agent in the foreground until SIGTERM or SIGINT,
// when it hands leadership over (bounded), stops and exits 0. SIGHUP
// re-reads the state directory's authorized_keys. Logs go to stderr.
// --watchdog PATH [--watchdog-timeout-ms N]: fencing = watchdog, the lease
// guard feeds PATH (rule 6). --nice N: the agent's CPU priority, set before
// it starts any thread or child (src/os/scheduling.ts says why).
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_AGENT_NICE, MAX_NICE, MIN_NICE, setProcessNice } from '../../os/scheduling.js';
import type { CommandResult, Invocation } from '../command-spec.js';
import { FcmError, UsageError, fromCodedError } from '../errors.js';

export const DEFAULT_STATE_DIR = '/var/lib/fcm';

interface HostPort {
  host: string;
  port: number;
}

export async function agentRun(invocation: Invocation): Promise<CommandResult> {
  const o = invocation.options;
  const text = (key: string): string | undefined => (typeof o[key] === 'string' ? o[key] : undefined);
  const [{ NodeAgent, DEFAULT_AGENT_PORT }, { Logger }] = await Promise.all([
    import('../../agent/node/node-agent.js'),
    import('../../agent/node/logger.js'),
  ]);
  const listen = parseHostPort(text('listen') ?? `0.0.0.0:${DEFAULT_AGENT_PORT}`, '--listen', 0);
  const advertiseText = text('advertise');
  const advertise = advertiseText === undefined ? undefined : parseHostPort(advertiseText, '--advertise', 1);
  const sourceAddress = text('sourceAddress');
  if (sourceAddress !== undefined && isIP(sourceAddress) === 0) throw new UsageError(`--source-address '${sourceAddress}' is not an IP address`, 'e.g. --source-address 10.0.0.11');
  const logFormat = text('logFormat') === 'json' ? 'json' : 'text';
  const log = new Logger({ format: logFormat, level: invocation.globals.verbose ? 'debug' : 'info' });
  const stateDir = resolve(text('stateDir') ?? DEFAULT_STATE_DIR);
  const socketPath = text('socket');
  const name = text('name');
  const watchdog = await watchdogOption(text('watchdog'), text('watchdogTimeoutMs'));
  const nice = niceOption(text('nice'));
  const niceProblems = setProcessNice(nice, { autogroup: true });
  if (niceProblems.length > 0) {
    log.warn('cannot set the agent\'s CPU priority: heartbeats and lease renewals compete with the resources for CPU', { nice, problems: niceProblems, hint: 'run the agent as root (CAP_SYS_NICE), or pass --nice 0 to keep the default priority' });
  } else {
    log.info('CPU priority set', { nice });
  }

  let fatal: Error | null = null;
  let wake: () => void = () => {};
  const stopRequested = new Promise<string>((done) => {
    const on = (signal: NodeJS.Signals): void => done(signal);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    wake = () => done('fatal');
  });
  let agent: Awaited<ReturnType<typeof NodeAgent.start>>;
  try {
    agent = await NodeAgent.start({
      stateDir,
      listen,
      ...(advertise ? { advertise } : {}),
      ...(sourceAddress ? { sourceAddress } : {}),
      ...(name ? { name } : {}),
      ...(socketPath ? { socketPath: resolve(socketPath) } : {}),
      ...(watchdog ? { watchdog } : {}),
      log,
      version: readVersion(),
      onFatal: (err) => {
        fatal = err;
        wake();
      },
    });
  } catch (err) {
    throw asCliError(err, listen);
  }
  const onHangup = (): void => {
    agent.reloadAuthorizedKeys().then(
      () => log.info('authorized_keys re-read'),
      (err: unknown) => log.error('could not re-read authorized_keys', { err }),
    );
  };
  process.on('SIGHUP', onHangup);
  const reason = await stopRequested;
  process.off('SIGHUP', onHangup);
  log.info('stopping', { reason });
  await agent.stop({ transferLeadership: fatal === null });
  if (fatal !== null) throw new FcmError('E_AGENT_FAILED', `the agent stopped after a failure it cannot continue from: ${(fatal as Error).message}`, 'it recovers from its files when started again');
  return { data: { stopped: true }, text: '' };
}

/**
 * --watchdog and --watchdog-timeout-ms, every problem named (E_INVALID):
 * the device must be a character device (/dev/watchdog) or a FIFO (the
 * lab's emulated watchdog); the timeout a whole number of ms. A device's
 * own timeout (sysfs) is what resets the machine: a shorter one given would
 * let the guard feed too late (rule 6), so it is refused; a FIFO has none,
 * so it needs one given. Whether T_wd fits the lease is checked by the
 * agent, which knows the cluster's timing.
 */
async function watchdogOption(path: string | undefined, timeoutText: string | undefined): Promise<{ path: string; timeoutMs?: number } | undefined> {
  const problems: string[] = [];
  const timeoutMs = timeoutText === undefined ? undefined : /^\d+$/.test(timeoutText) ? Number(timeoutText) : NaN;
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) problems.push(`--watchdog-timeout-ms '${timeoutText ?? ''}' is not a whole number of ms above 0`);
  if (path === undefined) {
    if (timeoutText !== undefined) problems.push('--watchdog-timeout-ms needs --watchdog');
  } else {
    const found = await stat(path).catch((err: unknown) => (err as Error).message);
    if (typeof found === 'string') problems.push(`--watchdog ${path}: ${found}`);
    else if (found.isFIFO()) {
      if (timeoutMs === undefined) problems.push(`--watchdog ${path} is a FIFO, which has no timeout of its own: give --watchdog-timeout-ms`);
    } else if (found.isCharacterDevice()) {
      const { readWatchdogTimeoutMs } = await import('../../agent/guard/watchdog.js');
      const deviceMs = await readWatchdogTimeoutMs(path).catch(() => undefined);
      if (deviceMs === undefined && timeoutMs === undefined) problems.push(`cannot read ${path}'s timeout from sysfs: give --watchdog-timeout-ms`);
      if (deviceMs !== undefined && timeoutMs !== undefined && timeoutMs < deviceMs) {
        problems.push(`--watchdog-timeout-ms ${timeoutMs} is shorter than ${path}'s own timeout (${deviceMs} ms): the guard would feed too late`);
      }
    } else problems.push(`--watchdog ${path} is neither a character device nor a FIFO`);
  }
  if (problems.length > 0) throw new FcmError('E_INVALID', problems.join('; '), 'e.g. --watchdog /dev/watchdog, or --watchdog /dev/watchdog --watchdog-timeout-ms 500 when the device\'s own timeout is not wanted');
  if (path === undefined) return undefined;
  return { path: resolve(path), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** --nice: a whole number from -20 to 19. */
function niceOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_AGENT_NICE;
  const nice = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isSafeInteger(nice) && nice >= MIN_NICE && nice <= MAX_NICE)) {
    throw new UsageError(`--nice '${value}' is not a whole number from ${MIN_NICE} to ${MAX_NICE}`, `e.g. --nice ${DEFAULT_AGENT_NICE} (the default) or --nice 0 (the resources' priority)`);
  }
  return nice;
}

/** HOST:PORT, [IPv6]:PORT; `minPort` 0 allows "pick a free port". */
function parseHostPort(value: string, option: string, minPort: number): HostPort {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || !Number.isInteger(port) || port < minPort || port > 65535) {
    throw new UsageError(`${option} '${value}' is not HOST:PORT`, `e.g. ${option} 10.0.0.11:7422 or ${option} [fd00::11]:7422`);
  }
  return { host, port };
}

/** Start failures keep their stable codes; a taken port says EADDRINUSE (the lab retries on it). */
function asCliError(err: unknown, listen: HostPort): Error {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'EADDRINUSE') return new FcmError('E_ADDRESS_IN_USE', `cannot listen on ${listen.host}:${listen.port}: EADDRINUSE, the address is in use`, 'another process has this port: pick another with --listen');
  if (code === 'EADDRNOTAVAIL') return new FcmError('E_ADDRESS_NOT_AVAILABLE', `cannot use ${listen.host}: ${message}`, 'name an address of this machine in --listen / --source-address');
  return fromCodedError(err) ?? (err instanceof Error ? err : new Error(message));
}

function readVersion(): string {
  // From dist*/src/cli/commands/agent-run.js, the package root is four levels up.
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // An unreadable package.json must not stop the agent.
  }
  return 'unknown';
}
