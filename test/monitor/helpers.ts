// Shared pieces of the monitor and resource type tests: temp dirs, contexts
// for calling a type directly, resource specs for the monitor, bounded
// waits, and network namespaces.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceSpec } from '../../src/agent/monitor/protocol.js';
import { isSameProcess } from '../../src/os/process-identity.js';
import type { ProcessIdentity } from '../../src/os/process-identity.js';
import type { OperationContext, OperationFailure, UndoEntry } from '../../src/agent/types/resource-type.js';
import type { TypeRef } from '../../src/agent/types/type-registry.js';

export function tempDir(prefix = 'fcm-mon-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

export interface TestContext {
  ctx: OperationContext;
  /** What the type reported through ctx.reportFailure. */
  failures: OperationFailure[];
  logs: LogLine[];
  /** Aborts ctx.signal, as the monitor does at the deadline. */
  abort: () => void;
}

export function context(options: {
  resource?: string;
  params: Record<string, string>;
  outputDir: string;
  deadlineMs?: number;
  containment?: OperationContext['containment'];
  undo?: (entry: UndoEntry) => Promise<void>;
}): TestContext {
  const controller = new AbortController();
  const failures: OperationFailure[] = [];
  const logs: LogLine[] = [];
  const logAt = (level: LogLine['level']) => (msg: string, fields: Record<string, unknown> = {}): void => {
    logs.push({ level, msg, fields });
  };
  const ctx: OperationContext = {
    resource: options.resource ?? 'r1',
    group: 'g1',
    params: options.params,
    containment: options.containment ?? null,
    outputDir: options.outputDir,
    signal: controller.signal,
    deadlineMs: options.deadlineMs ?? 20_000,
    log: { info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    undo: options.undo === undefined ? null : { record: options.undo },
    reportFailure: (result) => failures.push(result),
  };
  return { ctx, failures, logs, abort: () => controller.abort() };
}

export function spec(name: string, type: TypeRef, parameters: Record<string, string>, outputRoot: string, overrides: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    name,
    group: 'g1',
    type,
    parameters,
    deadlines: { start: 10_000, stop: 10_000, quickCheck: 5000, thoroughCheck: 5000 },
    // Long intervals: a test that wants checks sets them; none waits for a poll by accident.
    checkIntervals: { quick: 60_000, thorough: 60_000 },
    isolate: false,
    containment: null,
    outputDir: join(outputRoot, name),
    undoStateDir: null,
    ...overrides,
  };
}

export const PROCESS_TYPE: TypeRef = { name: 'process', kind: 'process', source: null };

/** Polls `predicate` every 20 ms until it holds; throws after `ms`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The identity a process resource recorded in its output directory. */
export async function recordedProcess(outputDir: string): Promise<ProcessIdentity> {
  return JSON.parse(await readFile(join(outputDir, 'process.json'), 'utf8')) as ProcessIdentity;
}

/** Cleanup: SIGKILL the recorded process (and its group) if it is still that process. */
export function killIfSame(identity: ProcessIdentity | undefined): void {
  if (identity === undefined || !isSameProcess(identity)) return;
  try {
    process.kill(-identity.pid, 'SIGKILL');
  } catch {
    process.kill(identity.pid, 'SIGKILL');
  }
}

/** Why network namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  const probe = `fcm-mon-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return null;
  } catch {
    return 'ip netns does not work here (iproute2 missing or no permission)';
  }
}

let netnsCount = 0;

export const NETNS_V4 = '10.77.0.1/24';
export const NETNS_V6 = 'fd00:77::1/64';

/**
 * A network namespace with a veth pair v0/v1 (both up; v0 has NETNS_V4 and
 * NETNS_V6), removed afterwards whatever happens.
 */
export async function withNetns(fn: (netns: string) => Promise<void>): Promise<void> {
  const netns = `fcm-mon-${process.pid}-${netnsCount++}`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', ['-n', netns, ...args], { stdio: 'ignore' });
  };
  execFileSync('ip', ['netns', 'add', netns], { stdio: 'ignore' });
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('link', 'set', 'v0', 'up');
    ip('link', 'set', 'v1', 'up');
    ip('addr', 'add', NETNS_V4, 'dev', 'v0');
    ip('addr', 'add', NETNS_V6, 'dev', 'v0', 'nodad');
    await fn(netns);
  } finally {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  }
}

/** Addresses on `dev` in `netns`, as `addr/prefix`. */
export function addressesIn(netns: string, dev: string): string[] {
  const out = execFileSync('ip', ['-n', netns, '-j', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
  const links = JSON.parse(out) as { addr_info: { local: string; prefixlen: number }[] }[];
  return links.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}
