// The `process` type: a long-running command. It starts as a session leader
// (its pid is its process group) inside the group's cgroup, with stdout and
// stderr appended to output.log in the resource's output directory. Its
// exit is seen at once through the child's 'exit' event and reported to the
// monitor without waiting for a check. It is remembered as {pid, start
// time} in memory and in process.json, so a replacement monitor can still
// stop it; it is never signalled without checking that identity.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { wrapArgv } from './cgroup-entry.js';
import type { RunAs } from './cgroup-entry.js';
import { parseEnvAssignments, splitWords } from './command-line.js';
import { parseProbe, runProbe } from './health-probe.js';
import type { Probe } from './health-probe.js';
import { checkParameters, durationParam, param, withDefaults } from './parameters.js';
import { isSameProcess, processIdentity, signalGroupIfSame, waitUntilGone } from '../../os/process-identity.js';
import type { ProcessIdentity } from '../../os/process-identity.js';
import { failure, OK } from './resource-type.js';
import type { OperationContext, OperationResult, ParameterProblem, ResourceType, TypeDescription } from './resource-type.js';
import { actionEnv, captureAction, outputFileIn } from './run-action.js';

const DESCRIPTION: TypeDescription = {
  summary: 'a long-running command in the group\'s cgroup, output to a file, with an optional health probe',
  parameters: [
    param('command', 'string', 'command line, split into words and run without a shell', { required: true }),
    param('env', 'string', 'environment as NAME=value words (PATH and LANG are set unless given)'),
    param('cwd', 'string', 'working directory', { default: '/' }),
    param('user', 'string', 'user to run as, with its primary and supplementary groups (default: root)'),
    param('stopTimeout', 'duration', 'time between SIGTERM and SIGKILL when going offline', { default: '10s' }),
    param('probe', 'string', 'health probe: tcp://HOST:PORT, http(s)://HOST:PORT/PATH (2xx/3xx) or command:COMMAND (exit 0)'),
    param('probeLevel', 'string', 'which check runs the probe: quick or thorough', { default: 'thorough' }),
    param('probeTimeout', 'duration', 'time one probe attempt may take', { default: '5s' }),
  ],
};

/** Where exec would find `command` (a path, or a name looked up in PATH), or null when nothing executable is there. */
async function findExecutable(command: string, path: string, cwd: string): Promise<string | null> {
  const candidates = command.includes('/') ? [resolve(cwd, command)] : path.split(delimiter).filter((dir) => dir !== '').map((dir) => resolve(cwd, dir, command));
  for (const candidate of candidates) {
    const usable = await access(candidate, constants.X_OK).then(() => stat(candidate)).then((s) => s.isFile(), () => false);
    if (usable) return candidate;
  }
  return null;
}

/** Pause between probe attempts while going online, in ms. */
const PROBE_RETRY_MS = 200;

interface Running {
  identity: ProcessIdentity;
  /** Set when offline or terminate begins: the exit is then expected, not a failure. */
  stopping: boolean;
  /** How it ended, once the 'exit' event came. */
  ended: string | null;
}

export class ProcessResourceType implements ResourceType {
  private readonly running = new Map<string, Running>();

  async describe(): Promise<TypeDescription> {
    return DESCRIPTION;
  }

  async validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]> {
    const problems = checkParameters(DESCRIPTION, params);
    const bad = (parameter: string, message: string): void => {
      problems.push({ code: 'E_INVALID_VALUE', parameter, message: `${parameter}: ${message}` });
    };
    if (params.command !== undefined) {
      const words = splitWords(params.command);
      if (words === null) bad('command', 'has an unbalanced quote');
      else if (words.length === 0) bad('command', 'is empty');
    }
    if (params.env !== undefined) {
      const env = parseEnvAssignments(params.env);
      if (typeof env === 'string') bad('env', env);
    }
    if (params.cwd !== undefined && !params.cwd.startsWith('/')) bad('cwd', 'must be an absolute path');
    if (params.user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(params.user)) bad('user', 'is not a user name');
    if (params.probe !== undefined) {
      const probe = parseProbe(params.probe);
      if (typeof probe === 'string') bad('probe', probe);
    }
    if (params.probeLevel !== undefined && params.probeLevel !== 'quick' && params.probeLevel !== 'thorough') bad('probeLevel', 'is not quick or thorough');
    return problems;
  }

  async online(ctx: OperationContext): Promise<OperationResult> {
    if ((await this.find(ctx)) !== undefined) return OK;
    const argv = splitWords(ctx.params.command ?? '');
    const env = parseEnvAssignments(ctx.params.env ?? '');
    if (argv === null || argv.length === 0 || typeof env === 'string') return failure('E_INVALID_VALUE', 'command or env cannot be parsed', 'fatal');
    let runAs: RunAs | null = null;
    const baseEnv = actionEnv({ HOME: '/' });
    if (ctx.params.user !== undefined) {
      const account = await lookUpUser(ctx.params.user, ctx.signal);
      if (typeof account === 'string') return failure('E_NO_USER', account, 'hard');
      runAs = { name: ctx.params.user, group: account.gid };
      Object.assign(baseEnv, { HOME: account.home, USER: ctx.params.user, LOGNAME: ctx.params.user });
    }
    const commandEnv = { ...baseEnv, ...env };
    // Once wrapped, a missing command would only show as the wrapper's exit after a moment of
    // looking Online; a command this node cannot run is a hard failure, so another node may try.
    const executable = await findExecutable(argv[0] as string, commandEnv.PATH ?? '', settings(ctx).cwd ?? '/');
    if (executable === null) return failure('E_NOT_INSTALLED', `${argv[0] ?? ''} is not an executable file on this node (PATH ${commandEnv.PATH ?? ''})`, 'hard');
    const started = await this.start(ctx, wrapArgv(argv, ctx.containment, runAs), commandEnv);
    if (!started.ok) return started;
    const probe = probeOf(ctx);
    if (probe === null) return OK;
    // Usable means the probe passes: retry until it does, the process exits or the deadline passes.
    for (;;) {
      const identity = this.running.get(ctx.resource)?.identity;
      if (identity === undefined || !isSameProcess(identity)) return this.exitedResult(ctx);
      const result = await this.probeOnce(ctx, probe);
      if (result.ok || ctx.signal.aborted) return result;
      await sleep(PROBE_RETRY_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
  }

  async offline(ctx: OperationContext): Promise<OperationResult> {
    return this.stop(ctx, durationParam(settings(ctx), 'stopTimeout', 10_000));
  }

  async terminate(ctx: OperationContext): Promise<OperationResult> {
    return this.stop(ctx, 0);
  }

  async quickCheck(ctx: OperationContext): Promise<OperationResult> {
    if ((await this.find(ctx)) === undefined) return this.exitedResult(ctx);
    const probe = probeOf(ctx);
    return probe !== null && settings(ctx).probeLevel === 'quick' ? this.probeOnce(ctx, probe) : OK;
  }

  async thoroughCheck(ctx: OperationContext): Promise<OperationResult> {
    if ((await this.find(ctx)) === undefined) return this.exitedResult(ctx);
    const probe = probeOf(ctx);
    return probe === null ? OK : this.probeOnce(ctx, probe);
  }

  private async start(ctx: OperationContext, argv: string[], env: Record<string, string>): Promise<OperationResult> {
    // The wrapper would refuse to run the command (exit 125) only after spawn; say so before.
    if (ctx.containment !== null) {
      const entry = ctx.containment.kind === 'cgroup' ? join(ctx.containment.dir, 'cgroup.procs') : ctx.containment.dir;
      const missing = await access(entry).then(() => false, () => true);
      if (missing) return failure('E_CONTAINMENT', `cannot enter ${ctx.containment.kind} ${ctx.containment.dir}: ${entry} is missing`, 'hard');
    }
    const output = await open(outputFileIn(ctx.outputDir), 'a', 0o600);
    let identity: ProcessIdentity | undefined;
    try {
      await output.write(`--- fcm ${new Date().toISOString()} online: ${ctx.params.command ?? ''}\n`);
      const child = spawn(argv[0] as string, argv.slice(1), {
        detached: true, stdio: ['ignore', output.fd, output.fd], env, cwd: settings(ctx).cwd,
      });
      identity = await new Promise<ProcessIdentity | undefined>((resolve) => {
        child.once('error', () => resolve(undefined));
        // Read /proc before yielding to the event loop: a child that exits at once is not yet reaped here.
        child.once('spawn', () => resolve(processIdentity(child.pid as number)));
      });
      if (identity === undefined) return failure('E_EXITED', `${argv[0] ?? ''} could not be started or exited at once; see ${outputFileIn(ctx.outputDir)}`);
      const entry: Running = { identity, stopping: false, ended: null };
      this.running.set(ctx.resource, entry);
      child.once('exit', (code, signal) => {
        entry.ended = code !== null ? `exit status ${code}` : `signal ${signal ?? '?'}`;
        if (!entry.stopping) ctx.reportFailure(failure('E_EXITED', `process ${entry.identity.pid} ended (${entry.ended})`));
      });
      // The child is watched through 'exit'; it must not keep the monitor alive on its own.
      child.unref();
    } finally {
      await output.close();
    }
    await writePidFile(ctx.outputDir, identity);
    if (!isSameProcess(identity)) return this.exitedResult(ctx);
    // At the deadline, what online started is killed: the monitor reports E_DEADLINE.
    const started = identity;
    const kill = (): void => {
      const entry = this.running.get(ctx.resource);
      if (entry !== undefined) entry.stopping = true;
      signalGroupIfSame(started, 'SIGKILL');
    };
    if (ctx.signal.aborted) kill();
    else ctx.signal.addEventListener('abort', kill, { once: true });
    return OK;
  }

  private async stop(ctx: OperationContext, graceMs: number): Promise<OperationResult> {
    const entry = this.running.get(ctx.resource);
    if (entry !== undefined) entry.stopping = true;
    const identity = await this.find(ctx);
    if (identity !== undefined) {
      const termed = graceMs > 0 && signalGroupIfSame(identity, 'SIGTERM');
      if (!termed || !(await waitUntilGone(identity, graceMs, { abort: ctx.signal }))) {
        if (termed) ctx.log.warn('process did not stop on SIGTERM: SIGKILL', { pid: identity.pid, stopTimeoutMs: graceMs });
        signalGroupIfSame(identity, 'SIGKILL');
        // After SIGKILL only uninterruptible sleep delays the exit; the deadline bounds the wait.
        if (!(await waitUntilGone(identity, ctx.deadlineMs, { abort: ctx.signal }))) {
          return failure('E_STOP_FAILED', `process ${identity.pid} is still there after SIGKILL`, 'hard');
        }
      }
    }
    this.running.delete(ctx.resource);
    await rm(pidFileIn(ctx.outputDir), { force: true });
    return OK;
  }

  /** The live process of the resource, from memory or (after a monitor restart) from process.json. */
  private async find(ctx: OperationContext): Promise<ProcessIdentity | undefined> {
    const identity = this.running.get(ctx.resource)?.identity ?? (await readPidFile(ctx.outputDir));
    return identity !== undefined && isSameProcess(identity) ? identity : undefined;
  }

  private exitedResult(ctx: OperationContext): OperationResult {
    const ended = this.running.get(ctx.resource)?.ended;
    return failure('E_NOT_RUNNING', ended ? `the process ended (${ended})` : 'the process is not running');
  }

  private probeOnce(ctx: OperationContext, probe: Probe): Promise<OperationResult> {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(durationParam(settings(ctx), 'probeTimeout', 5000))]);
    return runProbe(probe, { outputFile: outputFileIn(ctx.outputDir), containment: ctx.containment, signal });
  }
}

/** The parameters with the defaults of DESCRIPTION filled in. */
function settings(ctx: OperationContext): Record<string, string> {
  return withDefaults(DESCRIPTION, ctx.params);
}

function probeOf(ctx: OperationContext): Probe | null {
  if (ctx.params.probe === undefined) return null;
  const probe = parseProbe(ctx.params.probe);
  return typeof probe === 'string' ? null : probe;
}

function pidFileIn(outputDir: string): string {
  return join(outputDir, 'process.json');
}

async function writePidFile(outputDir: string, identity: ProcessIdentity): Promise<void> {
  const path = pidFileIn(outputDir);
  // Written whole then renamed: a reader never sees half a record. No fsync: a crash of the machine ends the process too.
  await writeFile(`${path}.tmp`, JSON.stringify(identity), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

async function readPidFile(outputDir: string): Promise<ProcessIdentity | undefined> {
  try {
    const value = JSON.parse(await readFile(pidFileIn(outputDir), 'utf8')) as Partial<ProcessIdentity>;
    if (Number.isSafeInteger(value.pid) && (value.pid as number) > 1 && Number.isSafeInteger(value.startTime)) {
      return { pid: value.pid as number, startTime: value.startTime as number };
    }
  } catch {
    // Absent or unreadable: nothing is known to be running.
  }
  return undefined;
}

/** The account's primary gid and home from NSS (getent), or why not. */
async function lookUpUser(user: string, signal: AbortSignal): Promise<{ gid: string; home: string } | string> {
  const result = await captureAction({ argv: ['getent', 'passwd', user], env: actionEnv(), containment: null, signal });
  const fields = result.stdout.split('\n')[0]?.split(':') ?? [];
  if (result.outcome.kind !== 'exited' || result.outcome.code !== 0 || fields.length < 7) return `no user ${user} on this node`;
  return { gid: fields[3] as string, home: fields[5] as string };
}
