// Writes to the cluster database through the API, as a client waits for
// them: one change followed until every node shows it, and many changes in
// flight at once over a few pipelined connections.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '../../../src/client/agent-client.js';
import { ApiCallError } from '../../../src/client/agent-client.js';
import { summarize } from '../stats.js';
import type { Summary } from '../stats.js';

type Values = Record<string, string>;

/** `samples` changes of historyLimit sent to `leader` one after the other: time to each answer, ms. */
export async function commitAlone(leader: AgentClient, samples: number, firstValue: number): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const sentAt = performance.now();
    await leader.call('config.set', { values: { historyLimit: String(firstValue + i) } });
    times.push(performance.now() - sentAt);
  }
  return summarize(times);
}

export interface CommitToAll {
  /** config.set sent → its answer (committed on a quorum, applied on the leader), ms. */
  answeredMs: Summary;
  /** config.set sent → config.get on every node shows the value, ms. */
  allNodesMs: Summary;
}

/**
 * `samples` changes of historyLimit, one after the other, each sent to
 * `leader` while every reader polls its own node's config.get back to back
 * (one request in flight per node) until it shows the new value.
 */
export async function commitToAllNodes(leader: AgentClient, readers: AgentClient[], samples: number, firstValue: number): Promise<CommitToAll> {
  const answered: number[] = [];
  const allNodes: number[] = [];
  for (let i = 0; i < samples; i++) {
    const value = firstValue + i;
    const sentAt = performance.now();
    const set = leader.call('config.set', { values: { historyLimit: String(value) } }).then(() => answered.push(performance.now() - sentAt));
    const seen = readers.map(async (reader) => {
      for (;;) {
        const got = await reader.call('config.get', { key: 'historyLimit' });
        if (got.properties.historyLimit === value) return performance.now() - sentAt;
      }
    });
    const [, ...times] = await Promise.all([set, ...seen]);
    allNodes.push(Math.max(...(times as number[])));
  }
  return { answeredMs: summarize(answered), allNodesMs: summarize(allNodes) };
}

export interface WriteLoad {
  connections: number;
  inFlight: number;
  commits: number;
  /** Refused calls by error code (E_NOT_LEADER while leadership moves); each was retried after 50 ms. */
  failed: Record<string, number>;
  durationMs: number;
  commitsPerSec: number;
  latencyMs: Summary;
}

/** A load that commits nothing for this long is stuck, ms. */
const STUCK_MS = 15_000;

/**
 * `inFlight` writers spread over `clients` (pipelined on each connection),
 * each sending config.set after config.set until `done()`; every change is
 * committed and applied on the leader when its answer comes. A refused
 * call is counted and retried (a node that lost leadership forwards to the
 * new leader); nothing committed for STUCK_MS fails the load.
 */
export async function writeLoad(clients: AgentClient[], inFlight: number, values: (seq: number) => Values, done: (commits: number) => boolean): Promise<WriteLoad> {
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  let seq = 0;
  const start = performance.now();
  let lastCommitAt = start;
  const writer = async (client: AgentClient): Promise<void> => {
    while (!done(latencies.length)) {
      const t0 = performance.now();
      try {
        await client.call('config.set', { values: values(seq++) });
        lastCommitAt = performance.now();
        latencies.push(lastCommitAt - t0);
      } catch (err) {
        const code = err instanceof ApiCallError ? err.code : 'other';
        failed[code] = (failed[code] ?? 0) + 1;
        if (performance.now() - lastCommitAt > STUCK_MS) throw new Error(`no change committed for ${STUCK_MS} ms; the last refusal: ${String(err)}`, { cause: err });
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, i) => writer(clients[i % clients.length] as AgentClient)));
  const durationMs = performance.now() - start;
  return {
    connections: clients.length,
    inFlight,
    commits: latencies.length,
    failed,
    durationMs: Math.round(durationMs),
    commitsPerSec: Math.round((latencies.length / durationMs) * 1000),
    latencyMs: summarize(latencies),
  };
}
