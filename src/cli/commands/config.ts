// fcm config get [KEY] | set KEY=VALUE... | history [--limit N].
//   --json: get prints {properties, defaults}; set prints {index, properties, warnings};
//   history prints AuditRecord[] (oldest first).
import { formatDuration } from '../../agent/db/names.js';
import { PROPERTY_DEFS } from '../../agent/db/properties.js';
import type { AgentClient } from '../../client/agent-client.js';
import type { ApiResult } from '../../client/api.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { UsageError } from '../errors.js';
import { renderTable } from '../render.js';

const DURATION_KEYS = new Set<string>(PROPERTY_DEFS.filter((d) => d.kind === 'duration').map((d) => d.key));

/** Durations as people write them (`100ms`, `1s`); the JSON keeps the agent's numbers (ms). */
export function formatProperty(key: string, value: number | string | undefined): string {
  if (value === undefined) return '-';
  return typeof value === 'number' && DURATION_KEYS.has(key) ? formatDuration(value) : String(value);
}

export async function configGet(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const key = invocation.args[0] as string | undefined;
  const client = await context.connect();
  const result = await client.call('config.get', key === undefined ? {} : { key });
  const keys = Object.keys(result.properties).sort();
  return {
    data: result,
    text: () => renderTable(
      ['KEY', 'VALUE', 'DEFAULT'],
      keys.map((k) => [k, formatProperty(k, result.properties[k]), formatProperty(k, result.defaults[k])]),
    ),
  };
}

/**
 * `KEY=VALUE` words → {KEY: VALUE}. Every malformed word and every key given
 * twice is reported at once: exit 2, nothing sent.
 */
export function parseSettings(words: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      problems.push(eq === 0 ? `'${word}' has no key before '='` : `'${word}' has no '='`);
      continue;
    }
    const key = word.slice(0, eq);
    if (Object.hasOwn(values, key)) problems.push(`${key} is given twice`);
    values[key] = word.slice(eq + 1);
  }
  if (problems.length > 0) throw new UsageError(`invalid settings: ${problems.join('; ')}`, 'write KEY=VALUE, e.g. heartbeatInterval=150ms');
  return values;
}

export async function configSet(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const values = parseSettings(invocation.args[0] as string[]);
  const client = await context.connect();
  const result = await context.spin('changing settings', () => client.call('config.set', { values, force: context.globals.force }));
  for (const warning of result.warnings) context.warn(warning.message);
  const changed = Object.keys(values).sort();
  return {
    data: result,
    text: () => `${renderTable(['KEY', 'VALUE'], changed.map((k) => [k, formatProperty(k, result.properties[k])]))}committed at index ${result.index}`,
  };
}

export async function configHistory(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const limit = invocation.options.limit as number | undefined;
  const client = await context.connect();
  const [records, names] = await Promise.all([client.call('config.history', limit === undefined ? {} : { limit }), nodeNames(client)]);
  return { data: records, text: () => renderTable(HISTORY_HEADERS, records.map((r) => historyRow(r, names))) };
}

export type HistoryRecord = ApiResult<'config.history'>[number];

/** Columns of a change in the history (config history, events). */
export const HISTORY_HEADERS = ['INDEX', 'TIME', 'ACTOR', 'RESULT', 'CHANGE'];

/** Node ids (n + 10 hex digits) → names, for people: records name nodes by id. */
export async function nodeNames(client: AgentClient): Promise<Map<string, string>> {
  return new Map((await client.call('node.list', {})).map((n) => [n.id, n.name]));
}

/** A history record's columns, with node ids shown as names where `names` knows them (JSON keeps the ids). */
export function historyRow(r: HistoryRecord, names: ReadonlyMap<string, string>): (string | number | null)[] {
  const named = (text: string): string => text.replace(/\bn[0-9a-f]{10}\b/g, (id) => names.get(id) ?? id);
  return [r.index, r.at === null ? null : new Date(r.at).toISOString().replace(/\.\d+Z$/, 'Z'), r.actor === null ? null : named(r.actor), r.result, named(r.summary)];
}
