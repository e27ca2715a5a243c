// Running a short action (an OCF or LSB action, a probe command, `ip`) with
// a deadline. The action leads its own process group, so when the
// operation's AbortSignal fires the whole group is killed with SIGKILL:
// the action and whatever it started in the foreground. Daemons an action
// starts put themselves in new sessions and are not touched (they are the
// resource). Output goes to a file, never to a pipe that nobody drains.

import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTAINMENT_ENTRY_FAILED, wrapArgv } from './cgroup-entry.js';
import type { Containment, RunAs } from './cgroup-entry.js';
import { failure } from './resource-type.js';
import type { OperationResult } from './resource-type.js';

/** PATH for actions: the agent's own environment is not passed on. */
export const ACTION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The file in a resource's output directory that its processes and actions write to. */
export function outputFileIn(outputDir: string): string {
  return join(outputDir, 'output.log');
}

export function actionEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: ACTION_PATH, LANG: 'C.UTF-8', ...extra };
}

export type ActionOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  /** The deadline passed; the action's process group was killed. */
  | { kind: 'aborted' }
  | { kind: 'not-started'; message: string };

export interface ActionRun {
  argv: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  /** The group's containment, entered before exec; null: none (fcm's own queries). */
  containment: Containment | null;
  user?: RunAs | null;
  signal: AbortSignal;
}

export interface FileActionRun extends ActionRun {
  /** stdout and stderr are appended here. */
  outputFile: string;
  /** Written as a header line before the action's output, so the file reads as a log; null: none (frequent probes). */
  label: string | null;
}

/** Run an action with output appended to a file; resolves when it exits or is killed. */
export async function runAction(run: FileActionRun): Promise<ActionOutcome> {
  if (run.signal.aborted) return { kind: 'aborted' };
  const file = await open(run.outputFile, 'a', 0o600);
  try {
    if (run.label !== null) await file.write(`--- fcm ${new Date().toISOString()} ${run.label}\n`);
    return await spawnAndWait(run, ['ignore', file.fd, file.fd], null);
  } finally {
    await file.close();
  }
}

export interface CapturedAction {
  outcome: ActionOutcome;
  stdout: string;
  stderr: string;
}

/**
 * Run one of fcm's own queries (an agent's meta-data, `ip -j addr`) and
 * capture what it prints, up to `maxBytes` per stream: small, bounded
 * output that fcm parses, read to the end before the action counts as done.
 */
export async function captureAction(run: ActionRun, maxBytes = 1 << 20): Promise<CapturedAction> {
  if (run.signal.aborted) return { outcome: { kind: 'aborted' }, stdout: '', stderr: '' };
  const captured = { stdout: '', stderr: '' };
  const outcome = await spawnAndWait(run, ['ignore', 'pipe', 'pipe'], (child) => {
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name];
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        if (captured[name].length < maxBytes) captured[name] += chunk.slice(0, maxBytes - captured[name].length);
      });
    }
  });
  return { outcome, ...captured };
}

type Stdio = ['ignore', number | 'pipe', number | 'pipe'];

function spawnAndWait(run: ActionRun, stdio: Stdio, attach: ((child: ReturnType<typeof spawn>) => void) | null): Promise<ActionOutcome> {
  const argv = wrapArgv(run.argv, run.containment, run.user ?? null);
  return new Promise((resolve) => {
    let aborted = false;
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio, env: run.env, cwd: run.cwd });
    attach?.(child);
    const kill = (): void => {
      aborted = true;
      // A daemon the action left behind may hold the pipes open: stop reading so 'close' comes.
      child.stdout?.destroy();
      child.stderr?.destroy();
      // The child is not reaped before its 'exit' event, so its pid (= its group id) is still ours.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    };
    run.signal.addEventListener('abort', kill, { once: true });
    // Aborted while the output file was opened: no 'abort' event comes any more, so kill it now.
    if (run.signal.aborted) kill();
    child.once('error', (err) => {
      run.signal.removeEventListener('abort', kill);
      resolve({ kind: 'not-started', message: `cannot run ${run.argv[0] ?? '?'}: ${err.message}` });
    });
    // 'close' (not 'exit') when output is piped, so every byte has been read.
    child.once(stdio[1] === 'pipe' ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => {
      run.signal.removeEventListener('abort', kill);
      if (aborted) resolve({ kind: 'aborted' });
      else if (code !== null) resolve({ kind: 'exited', code });
      else resolve({ kind: 'signalled', signal: signal ?? 'unknown' });
    });
  });
}

/** A short description of an outcome for messages. */
export function describeOutcome(outcome: ActionOutcome): string {
  switch (outcome.kind) {
    case 'exited': return `exit status ${outcome.code}`;
    case 'signalled': return `killed by ${outcome.signal}`;
    case 'aborted': return 'killed at its deadline';
    case 'not-started': return outcome.message;
  }
}

/**
 * The result of an action from its outcome; `onExit` judges an exit status.
 * A deadline kill is E_DEADLINE; a command that cannot be run at all is a
 * hard failure (this node lacks it); failing to enter the group's
 * containment is hard as well (this node cannot run the group safely).
 */
export function outcomeResult(outcome: ActionOutcome, run: { containment: Containment | null }, subject: string, onExit: (status: number) => OperationResult): OperationResult {
  switch (outcome.kind) {
    case 'aborted': return failure('E_DEADLINE', `${subject}: killed at its deadline`);
    case 'not-started': return failure('E_NOT_STARTED', `${subject}: ${outcome.message}`, 'hard');
    case 'signalled': return failure('E_KILLED', `${subject}: killed by ${outcome.signal}`);
    case 'exited':
      if (outcome.code === CONTAINMENT_ENTRY_FAILED && run.containment !== null) {
        const what = `could not enter ${run.containment.kind} ${run.containment.dir}, or the command itself exited ${CONTAINMENT_ENTRY_FAILED}`;
        return failure('E_CONTAINMENT', `${subject}: exit status ${CONTAINMENT_ENTRY_FAILED}: ${what}`, 'hard');
      }
      return onExit(outcome.code);
  }
}
