// `npm run bench -- db`: three in-process nodes, each with the real on-disk
// store (fsync on) in its own temp directory, the real consensus core and
// the real cluster database; messages cross an in-process transport.
// Measures what a client of the leader waits for: propose → committed on a
// quorum → applied on the leader. One writer (latency), then 100 concurrent
// writers (throughput).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultRaftConfig } from '../../src/agent/consensus/config.js';
import type { Membership, NodeId } from '../../src/agent/consensus/types.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';
import { ConsensusRuntime, RuntimeError } from '../../src/agent/runtime/consensus-runtime.js';
import { DatabaseStateMachine } from '../../src/agent/runtime/database-state-machine.js';
import { InProcessNetwork } from '../../src/agent/runtime/in-process-transport.js';
import { LogStore } from '../../src/agent/store/log-store.js';
import { summarize } from './stats.js';

const NODE_IDS: NodeId[] = ['n1', 'n2', 'n3'];
const SINGLE_WRITER_OPS = 2_000;
const CONCURRENT_WRITERS = 100;
const CONCURRENT_DURATION_MS = 5_000;

interface BenchNode {
  runtime: ConsensusRuntime;
  store: LogStore;
}

function command(seq: number): string {
  return encodeCommand({
    cmd: { type: 'property.set', values: { historyLimit: 1000 + (seq % 50) } },
    actor: 'bench',
    at: Date.now(),
    requestId: `bench-${seq}`,
  });
}

async function startCluster(root: string): Promise<BenchNode[]> {
  const network = new InProcessNetwork();
  const membership: Membership = {
    members: NODE_IDS.map((id) => ({ id, incarnation: `${id}-inc`, kind: 'node', role: 'voter' })),
  };
  const nodes: BenchNode[] = [];
  for (const id of NODE_IDS) {
    const { store, restored } = await LogStore.open(join(root, id));
    const runtime = new ConsensusRuntime({
      id,
      clusterId: 'bench',
      incarnation: `${id}-inc`,
      config: defaultRaftConfig,
      store,
      restored,
      transport: network.endpoint(id),
      stateMachine: new DatabaseStateMachine(new ClusterDatabase()),
      bootstrap: membership,
    });
    nodes.push({ runtime, store });
  }
  return nodes;
}

/** The leader; with `settled`, only once its first entry of the term has committed (so timing starts on a ready cluster). */
async function waitForLeader(nodes: BenchNode[], timeoutMs: number, settled = false): Promise<BenchNode> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const leader = nodes.find((n) => n.runtime.status().role === 'leader');
    if (leader && (!settled || leader.runtime.status().commitIndex >= leader.runtime.status().lastIndex)) return leader;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no leader within ${timeoutMs} ms`);
}

/** Commits one command, following leadership if it moves (counted: the run says how often it happened). */
async function commit(nodes: BenchNode[], data: string, counters: { leaderChanges: number }): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const leader = await waitForLeader(nodes, 5_000);
    try {
      await leader.runtime.propose(data);
      return;
    } catch (err) {
      if (!(err instanceof RuntimeError) || !['E_NOT_LEADER', 'E_LEADERSHIP_LOST'].includes(err.code)) throw err;
      counters.leaderChanges++;
    }
  }
  throw new Error('leadership kept moving: 20 attempts failed');
}

async function singleWriter(nodes: BenchNode[], counters: { leaderChanges: number }): Promise<{ latencyMs: ReturnType<typeof summarize>; commitsPerSec: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < SINGLE_WRITER_OPS; i++) {
    const t0 = performance.now();
    await commit(nodes, command(i), counters);
    latencies.push(performance.now() - t0);
  }
  const elapsed = performance.now() - start;
  return { latencyMs: summarize(latencies), commitsPerSec: Math.round((SINGLE_WRITER_OPS / elapsed) * 1000) };
}

async function concurrentWriters(nodes: BenchNode[], counters: { leaderChanges: number }): Promise<{ writers: number; commits: number; commitsPerSec: number; latencyMs: ReturnType<typeof summarize> }> {
  const latencies: number[] = [];
  let seq = 1_000_000;
  const start = performance.now();
  const stopAt = start + CONCURRENT_DURATION_MS;
  const writer = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      await commit(nodes, command(seq++), counters);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_WRITERS }, writer));
  const elapsed = performance.now() - start;
  return {
    writers: CONCURRENT_WRITERS,
    commits: latencies.length,
    commitsPerSec: Math.round((latencies.length / elapsed) * 1000),
    latencyMs: summarize(latencies),
  };
}

export async function runDbBenchmark(): Promise<object> {
  const root = await mkdtemp(join(tmpdir(), 'fcm-bench-db-'));
  const nodes = await startCluster(root);
  try {
    await waitForLeader(nodes, 5_000, true);
    const counters = { leaderChanges: 0 };
    process.stderr.write('db: leader elected; one writer...\n');
    const oneWriter = await singleWriter(nodes, counters);
    process.stderr.write(`db: ${CONCURRENT_WRITERS} writers for ${CONCURRENT_DURATION_MS} ms...\n`);
    const manyWriters = await concurrentWriters(nodes, counters);
    return {
      nodes: NODE_IDS.length,
      store: 'segment files, fdatasync on',
      transport: 'in-process',
      singleWriter: oneWriter,
      concurrentWriters: manyWriters,
      leaderChangesDuringRun: counters.leaderChanges,
      goals: { concurrentCommitsPerSec: 5000, singleWriterP50Ms: 2 },
    };
  } finally {
    for (const n of nodes) {
      await n.runtime.stop();
      await n.store.close();
    }
    await rm(root, { recursive: true, force: true });
  }
}
