// The audit history: one record per committed command, applied or
// rejected, with who asked and when (the proposer's clock).

import type { Report } from './report.js';
import { formatDependency, parseDependency } from './dependency.js';

export interface AuditRecord {
  /** Log position of the entry. */
  index: number;
  term: number;
  /** Proposer's wall clock (ms); null when the entry did not say. */
  at: number | null;
  /** Admin key fingerprint or node id; null when the entry did not say. */
  actor: string | null;
  requestId: string | null;
  /** Command type, or `malformed`. */
  type: string;
  /** One line for people, e.g. `group.create web`. */
  summary: string;
  result: 'applied' | 'rejected';
  /** Errors of a rejected command; warnings (forced overrides included) of an applied one. */
  reports?: Report[];
}

export interface HistoryQuery {
  /** At most this many records: the newest ones. */
  limit?: number;
  /** Only records with an index greater than this (a cursor: pass the last index seen). */
  sinceIndex?: number;
  /** Only this command type (`group.create`), or a family of them (`group`). */
  type?: string;
}

function clip(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/** A one-line description of a command; `cmd` may be any JSON object. */
export function summarize(type: string, cmd: Record<string, unknown> | null): string {
  if (!cmd) return type;
  const get = (key: string): unknown => (Object.hasOwn(cmd, key) ? cmd[key] : undefined);
  const values = get('values');
  switch (type) {
    case 'property.set':
      if (typeof values === 'object' && values !== null) {
        return `${type} ${Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, 8).map(([k, v]) => `${clip(k)}=${clip(v)}`).join(' ')}`;
      }
      return type;
    case 'placement.set':
      return `${type} ${clip(get('group'))} → ${get('node') === null ? 'nowhere' : clip(get('node'))}`;
    case 'group.move':
      return `${type} ${clip(get('name'))} → ${typeof get('to') === 'string' ? clip(get('to')) : 'another node'}`;
    case 'resourceState.set':
      return `${type} ${clip(get('resource'))} → ${clip(get('state'))}`;
    case 'quorum.set':
      return `${type} ${clip(get('mode'))}${typeof get('witness') === 'string' ? ` ${clip(get('witness'))}` : ''}`;
    case 'resource.depend': {
      const on = get('on');
      const parsed = typeof on === 'string' && on.trim() !== '' ? parseDependency(on) : null;
      return `${type} ${clip(get('name'))} on ${parsed?.ok ? clip(formatDependency(parsed.expr)) : on === '' ? 'nothing' : clip(on)}`;
    }
  }
  const subject = ['name', 'id', 'node'].map(get).find((v) => v !== undefined);
  return subject === undefined ? type : `${type} ${clip(subject)}`;
}

export function filterHistory(records: readonly AuditRecord[], query: HistoryQuery): AuditRecord[] {
  const { sinceIndex, type, limit } = query;
  const matching = records.filter(
    (r) => (sinceIndex === undefined || r.index > sinceIndex) && (type === undefined || r.type === type || r.type.startsWith(`${type}.`)),
  );
  const newest = limit === undefined ? matching : matching.slice(Math.max(0, matching.length - Math.max(0, limit)));
  return structuredClone(newest);
}
