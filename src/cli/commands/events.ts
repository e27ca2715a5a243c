// fcm events [--follow] [--limit N] [--type T]: the cluster's committed
// changes (its audit history, the same on every node) as events. Without
// --follow: the last N as a table, or one JSON array. With --follow: the
// last N, then every new one as it is applied on the node asked, one line
// each (NDJSON with --json), until SIGINT or SIGTERM (exit 0). Each event
// is an AuditRecord: {index, term, at, actor, requestId, type, summary,
// result, reports?}.
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { renderTable } from '../render.js';
import { HISTORY_HEADERS, historyRow, nodeNames } from './config.js';
import type { HistoryRecord } from './config.js';

const DEFAULT_LIMIT = 20;
/** How often --follow asks for new events, ms: a change shows within this (plus its commit). */
const FOLLOW_POLL_MS = 200;

export async function events(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const limit = (invocation.options.limit as number | undefined) ?? DEFAULT_LIMIT;
  const type = invocation.options.type as string | undefined;
  const client = await context.connect();
  const typeFilter = type === undefined ? {} : { type };
  const past = await client.call('config.history', { limit, ...typeFilter });
  const json = context.globals.json;
  // Names are read again while following when a node is added or renamed.
  let names = json ? new Map<string, string>() : await nodeNames(client);
  if (invocation.options.follow !== true) {
    return { data: past, text: () => (past.length === 0 ? 'no events' : renderTable(HISTORY_HEADERS, past.map((e) => historyRow(e, names)))) };
  }
  const show = async (e: HistoryRecord): Promise<void> => {
    if (json) {
      context.print(`${JSON.stringify(e)}\n`);
      return;
    }
    if ((e.type === 'node.add' || e.type === 'node.set') && e.result === 'applied') names = await nodeNames(client);
    context.print(`${historyRow(e, names).map((c) => c ?? '-').join('  ')}\n`);
  };
  for (const e of past) await show(e);
  let seen = past.at(-1)?.index ?? (await client.call('cluster.status', {})).commitIndex;
  const interrupted = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  let stopped = false;
  void interrupted.then(() => {
    stopped = true;
  });
  while (!stopped) {
    for (const e of await client.call('config.history', { sinceIndex: seen, ...typeFilter })) {
      await show(e);
      seen = e.index;
    }
    await Promise.race([interrupted, new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS))]);
  }
  return { data: null, text: '', streamed: true };
}
