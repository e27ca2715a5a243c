// Child process for kill.test.ts: opens the store in argv[2] and appends
// entries with sync, up to 8 saves in flight (so batches form), printing
// "ack <index> <term>" once each save has resolved. Every 40 entries the
// term goes up (with a vote); every 150 it compacts. It runs until killed.
import type { Entry } from '../../src/agent/consensus/types.js';
import { LogStore } from '../../src/agent/store/log-store.js';
import { entryData, snapshotAt } from './helpers.js';

const MAX_IN_FLIGHT = 8;
/** Upper bound on entries per run, so a child that is never killed still ends. */
const MAX_ENTRIES = 200_000;

async function main(dir: string): Promise<void> {
  const { store, restored } = await LogStore.open(dir, { segmentBytes: 4096 });
  if (restored.logCorrupt) throw new Error('log corrupt at start');
  const terms = new Map<number, number>();
  for (const entry of restored.entries) terms.set(entry.index, entry.term);
  let index = restored.entries.at(-1)?.index ?? restored.snapshot?.meta.index ?? 0;
  let term = Math.max(restored.hardState.term, 1);
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < MAX_ENTRIES; n++) {
    index++;
    let hardState = null;
    if (index % 40 === 0 || n === 0) {
      term++;
      hardState = { term, votedFor: 'n1', commit: index - 1 };
    }
    const entry: Entry = { index, term, kind: 'command', data: entryData(index, term) };
    terms.set(index, term);
    const acked = index;
    const ackedTerm = term;
    inFlight.push(store.save({ snapshot: null, entries: [entry], hardState }, true).then(() => {
      process.stdout.write(`ack ${acked} ${ackedTerm}\n`);
    }));
    if (index % 150 === 0) {
      const at = index - 20;
      const atTerm = terms.get(at);
      if (atTerm !== undefined) inFlight.push(store.compact(snapshotAt(at, atTerm)));
    }
    while (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await store.close();
}

main(process.argv[2]!).catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});
