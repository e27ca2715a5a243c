// What the undo journal records, and how each change is undone. Every undo
// is idempotent: a change that is already gone (address deleted, device or
// namespace removed, nothing mounted) counts as undone.

import { execFile } from 'node:child_process';
import { BlockList, isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { GuardError } from './guard-error.js';
import type { GuardProblem } from './guard-error.js';
import { isMountPoint } from './mountinfo.js';

export type UndoEntry =
  /** An address added with `ip [-n netns] addr add <address> dev <dev>`; `address` is "addr/prefix". */
  | { kind: 'ip-address'; dev: string; address: string; netns?: string }
  /** A filesystem mounted on `target` (absolute path). */
  | { kind: 'mount'; target: string }
  /** A resource type's own undo command; it must exit 0 when there is nothing left to undo. */
  | { kind: 'command'; argv: string[] };

/** Stacked mounts on one target are unmounted one by one, at most this many. */
const MAX_MOUNT_LAYERS = 8;

const DEV_NAME = /^[^\s/:]{1,15}$/;
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** Every problem with a journal entry; empty when it is usable. */
export function undoEntryProblems(value: unknown): GuardProblem[] {
  const bad = (field: string, message: string): GuardProblem => ({ code: 'E_INVALID', field, message });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [bad('entry', 'an undo entry must be an object')];
  const e = value as Record<string, unknown>;
  const problems: GuardProblem[] = [];
  const allowed: Record<string, string[]> = { 'ip-address': ['kind', 'dev', 'address', 'netns'], mount: ['kind', 'target'], command: ['kind', 'argv'] };
  const fields = typeof e.kind === 'string' ? allowed[e.kind] : undefined;
  if (fields === undefined) return [bad('kind', `kind must be one of ${Object.keys(allowed).join(', ')}; got ${JSON.stringify(e.kind)}`)];
  for (const key of Object.keys(e)) if (!fields.includes(key)) problems.push(bad(key, `unknown field ${key} for kind ${String(e.kind)}`));
  if (e.kind === 'ip-address') {
    if (typeof e.dev !== 'string' || !DEV_NAME.test(e.dev)) problems.push(bad('dev', `dev must be an interface name; got ${JSON.stringify(e.dev)}`));
    if (parseAddress(e.address) === null) problems.push(bad('address', `address must be "addr/prefix"; got ${JSON.stringify(e.address)}`));
    if (e.netns !== undefined && (typeof e.netns !== 'string' || !NETNS_NAME.test(e.netns))) {
      problems.push(bad('netns', `netns must be a network namespace name; got ${JSON.stringify(e.netns)}`));
    }
  } else if (e.kind === 'mount') {
    if (typeof e.target !== 'string' || !isAbsolute(e.target)) problems.push(bad('target', `target must be an absolute path; got ${JSON.stringify(e.target)}`));
  } else if (!Array.isArray(e.argv) || e.argv.length === 0 || !e.argv.every((a) => typeof a === 'string') || e.argv[0] === '') {
    problems.push(bad('argv', 'argv must be a non-empty array of strings'));
  }
  return problems;
}

/** Undoes one change; throws E_UNDO_FAILED when it is still in place afterwards. */
export async function undoEntry(entry: UndoEntry, timeoutMs: number): Promise<void> {
  switch (entry.kind) {
    case 'ip-address':
      return undoAddress(entry, timeoutMs);
    case 'mount':
      return undoMount(entry.target, timeoutMs);
    case 'command': {
      const r = await run(entry.argv, timeoutMs);
      if (r.status !== 0) throw new GuardError('E_UNDO_FAILED', `undo command ${entry.argv.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
  }
}

async function undoAddress(entry: { dev: string; address: string; netns?: string }, timeoutMs: number): Promise<void> {
  const ip = entry.netns === undefined ? ['ip'] : ['ip', '-n', entry.netns];
  const del = await run([...ip, 'addr', 'del', entry.address, 'dev', entry.dev], timeoutMs);
  if (del.status === 0) return;
  // Deleting failed: fine if the address (or its device, or its namespace) is gone already.
  const show = await run([...ip, '-j', 'addr', 'show', 'dev', entry.dev], timeoutMs);
  if (show.status !== 0 || !addressPresent(show.stdout, entry.address)) return;
  throw new GuardError('E_UNDO_FAILED', `cannot delete ${entry.address} from ${entry.dev}: ${del.stderr}`);
}

/** Whether `ip -j addr show` output lists `address` ("addr/prefix"), comparing addresses by value (IPv6 spellings differ). */
function addressPresent(ipJson: string, address: string): boolean {
  const want = parseAddress(address);
  if (want === null) return false;
  const exact = new BlockList();
  exact.addAddress(want.addr, want.family);
  let links: unknown;
  try {
    links = JSON.parse(ipJson);
  } catch {
    return true; // unreadable: do not claim it is gone
  }
  const infos = Array.isArray(links) ? links.flatMap((l: { addr_info?: unknown }) => (Array.isArray(l.addr_info) ? l.addr_info : [])) : [];
  return infos.some((a: { local?: unknown; prefixlen?: unknown }) => {
    if (typeof a.local !== 'string' || a.prefixlen !== want.prefix) return false;
    const family = isIP(a.local) === 6 ? 'ipv6' : 'ipv4';
    return family === want.family && exact.check(a.local, family);
  });
}

function parseAddress(value: unknown): { addr: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  if (typeof value !== 'string') return null;
  const [addr = '', prefixText, extra] = value.split('/');
  const version = isIP(addr);
  const prefix = Number(prefixText);
  if (version === 0 || extra !== undefined || prefixText === undefined || !/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) return null;
  return { addr, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

async function undoMount(target: string, timeoutMs: number): Promise<void> {
  for (let layer = 0; layer < MAX_MOUNT_LAYERS; layer++) {
    if (!(await isMountPoint(target))) return;
    // The group's processes are dead, so a plain unmount usually works; a
    // lazy one detaches it even if something still holds it open.
    const forced = await run(['umount', '-f', target], timeoutMs);
    if (forced.status !== 0 && (await isMountPoint(target))) await run(['umount', '-l', target], timeoutMs);
  }
  if (await isMountPoint(target)) throw new GuardError('E_UNDO_FAILED', `${target} is still mounted`);
}

interface RunResult {
  /** Exit status; -1 when it could not be started, was killed at the timeout or died of a signal. */
  status: number;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], timeoutMs: number): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    execFile(file ?? '', args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      const status = err === null ? 0 : typeof code === 'number' ? code : -1;
      resolve({ status, stdout, stderr: (stderr || (err?.message ?? '')).trim().slice(-500) });
    });
  });
}
