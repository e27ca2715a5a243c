// The textual formats the cluster database accepts: object names,
// durations, node addresses, SSH public keys and key fingerprints.

import type { Report } from './report.js';
import type { WitnessSpec } from './schema.js';
import { report } from './report.js';

/** Longest name, in characters (fits a DNS label, a cgroup and a unit name). */
export const NAME_MAX_LENGTH = 63;

/** A value as it appears in a message: quoted and cut, so a 1 MB string never fills a report. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}

/**
 * Names of nodes, groups, resources, types, disks and keys: letters, digits,
 * '-', '_' and '.', 1 to 63 characters, starting with a letter or digit (a
 * leading '-' reads as a command-line option, a leading '.' as a path).
 */
export function validateName(value: unknown, what: string, field?: string): Report | null {
  const detail = { field, hint: "use letters, digits, '-', '_' and '.', e.g. web-1" };
  if (typeof value !== 'string') return report('E_INVALID_NAME', 'error', `${what} name must be a string`, detail);
  if (value.length === 0 || value.length > NAME_MAX_LENGTH) {
    return report('E_INVALID_NAME', 'error', `${what} name ${show(value)} must be 1 to ${NAME_MAX_LENGTH} characters long`, detail);
  }
  const bad = /[^A-Za-z0-9._-]/.exec(value);
  if (bad) {
    return report('E_INVALID_NAME', 'error', `${what} name ${show(value)} contains ${show(bad[0])}: only letters, digits, '-', '_' and '.' are allowed`, detail);
  }
  if (!/^[A-Za-z0-9]/.test(value)) {
    return report('E_INVALID_NAME', 'error', `${what} name ${show(value)} must start with a letter or a digit`, detail);
  }
  return null;
}

/**
 * A resource type name: a name, or `ocf:PROVIDER:AGENT` for an OCF agent,
 * as `resource types` lists installed agents.
 */
export function validateTypeName(value: unknown, field?: string): Report | null {
  if (typeof value === 'string' && value.startsWith('ocf:')) {
    const parts = value.split(':');
    if (parts.length !== 3) {
      return report('E_INVALID_NAME', 'error', `resource type name ${show(value)} must be ocf:PROVIDER:AGENT`, { field, hint: 'e.g. ocf:heartbeat:IPaddr2; see resource types' });
    }
    return validateName(parts[1], 'OCF provider', field) ?? validateName(parts[2], 'OCF agent', field);
  }
  return validateName(value, 'resource type', field);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export type DurationResult = { ok: true; ms: number } | { ok: false; report: Report };

/** Parses `500ms`, `5s`, `10m`, `1h` into milliseconds. */
export function parseDuration(text: string, field?: string): DurationResult {
  const match = /^(\d{1,15})(ms|s|m|h)$/.exec(text.trim());
  const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
  const ms = match && unit ? Number(match[1]) * UNIT_MS[unit] : NaN;
  if (!Number.isSafeInteger(ms)) {
    const r = report('E_INVALID_DURATION', 'error', `${show(text)} is not a duration`, {
      field,
      hint: 'write a whole number with a unit: 500ms, 5s, 10m, 1h',
    });
    return { ok: false, report: r };
  }
  return { ok: true, ms };
}

/** The shortest exact spelling of a duration: 90000 → `90s`, 3600000 → `1h`. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** `host:port`, where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
export function parseAddress(text: string): { host: string; port: number } | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/.exec(text);
  if (!match?.[1] || !match[2]) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1], port };
}

const SSH_KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'];

/** An OpenSSH public key line: `TYPE BASE64 [comment]`. The blob is checked by the shell that uses it. */
export function isSshPublicKey(text: string): boolean {
  const [type, blob] = text.trim().split(/\s+/);
  return type !== undefined && SSH_KEY_TYPES.includes(type) && blob !== undefined && /^[A-Za-z0-9+/]{16,}={0,2}$/.test(blob);
}

/** The base64 key blob of a public key line: two lines with different comments are the same key. */
export function sshKeyBlob(publicKey: string): string {
  return publicKey.trim().split(/\s+/)[1] ?? '';
}

/** An OpenSSH SHA-256 fingerprint: `SHA256:` and 43 unpadded base64 characters. */
export function isKeyFingerprint(text: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}$/.test(text);
}

/** An absolute path without `.`/`..` components or NUL bytes. */
export function isAbsolutePath(text: string): boolean {
  return text.startsWith('/') && !text.includes('\0') && !text.split('/').some((part) => part === '.' || part === '..');
}

/** `disk:PATH` or `share:DIR`, both absolute. */
export function parseWitnessSpec(text: string): WitnessSpec | null {
  const match = /^(disk|share):(.*)$/.exec(text);
  if (!match?.[2] || !isAbsolutePath(match[2])) return null;
  return match[1] === 'disk' ? { kind: 'disk', path: match[2] } : { kind: 'share', dir: match[2] };
}

export function formatWitnessSpec(spec: WitnessSpec): string {
  return spec.kind === 'disk' ? `disk:${spec.path}` : `share:${spec.dir}`;
}
