// Kill -9 in the middle of writing: a child process appends with sync and
// prints each acknowledged index; it is SIGKILLed after some acks; the store
// reopened must hold every acknowledged entry intact, in a contiguous log.
// SIGKILL loses no written page, so on alternate runs the test also leaves a
// partial record at the end of the last segment, as a power cut during the
// last (unacknowledged) write would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../../src/agent/store/log-store.js';
import { encodeEntry } from '../../src/agent/store/records.js';
import { entryData, segmentNames, withTempDir } from './helpers.js';

const WRITER = fileURLToPath(new URL('./kill-writer.js', import.meta.url));
/** How long one run may take to reach its acks before the test gives up (ms). */
const RUN_TIMEOUT_MS = 20_000;

/** Runs the writer until it has printed `acks` acknowledgements, then SIGKILLs it. */
async function runAndKill(dir: string, acks: number): Promise<Map<number, number>> {
  const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const acked = new Map<number, number>();
  let stderr = '';
  let buffered = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${acked.size} acks in ${RUN_TIMEOUT_MS} ms; stderr: ${stderr}`)), RUN_TIMEOUT_MS);
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`writer exited early (${String(code)}): ${stderr}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const [, index, term] = line.split(' ');
          acked.set(Number(index), Number(term));
        }
        if (acked.size >= acks) {
          process.kill(pid, 'SIGKILL');
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exited;
  }
  return acked;
}

test('every acknowledged entry survives SIGKILL mid-write, in a contiguous log', () =>
  withTempDir(async (dir) => {
    const acked = new Map<number, number>();
    let highestAckedTerm = 0;
    for (const [run, acks] of [30, 120, 55, 200, 80].entries()) {
      for (const [index, term] of await runAndKill(dir, acks)) {
        acked.set(index, term);
        highestAckedTerm = Math.max(highestAckedTerm, term);
      }
      const torn = run % 2 === 1 ? encodeEntry({ index: 1e6, term: 1, kind: 'command', data: 'never acknowledged' }).subarray(0, 5 + run) : null;
      const lastSegment = (await segmentNames(dir)).at(-1)!;
      if (torn !== null) await appendFile(join(dir, lastSegment), torn);
      const { store, restored, recovery } = await LogStore.open(dir, { segmentBytes: 4096 });
      assert.equal(restored.logCorrupt, false, JSON.stringify(recovery));
      assert.deepEqual(recovery.corruptRecords, []);
      if (torn !== null) {
        assert.equal(recovery.tornTail?.segment, lastSegment);
        assert.ok(recovery.tornTail.bytesCut >= torn.length);
      }
      const base = restored.snapshot?.meta.index ?? 0;
      restored.entries.forEach((entry, i) => {
        assert.equal(entry.index, base + 1 + i, 'contiguous after the snapshot');
        assert.equal(entry.data, entryData(entry.index, entry.term));
      });
      const byIndex = new Map(restored.entries.map((e) => [e.index, e]));
      for (const [index, term] of acked) {
        if (index <= base) continue;
        assert.equal(byIndex.get(index)?.term, term, `acknowledged entry ${index} (term ${term})`);
      }
      assert.ok(restored.hardState.term >= highestAckedTerm);
      await store.close();
    }
  }));
