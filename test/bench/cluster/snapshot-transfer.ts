// Heartbeats while a large snapshot travels: a follower is removed
// (`fcm node remove --force`: it becomes a fresh agent with an empty log)
// and added again (`fcm node add`), so the leader sends it the whole
// database as a snapshot over the bulk lane. Meanwhile every agent's
// agent.status is read every 250 ms: the gaps between the leader's
// heartbeats as the other follower and the receiver saw them, and each
// agent's event-loop delay (both over the agent's last 10-20 s).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStatus } from '../../../src/client/api.js';
import type { BenchLab, BenchNode } from './bench-lab.js';
import { fcmJson, runFcm } from './fcm-cli.js';

export interface AgentPeaks {
  node: string;
  /** Highest heartbeatGapP99Ms any read showed; null if no heartbeat gap was seen. */
  heartbeatGapP99Ms: number | null;
  heartbeatGapMaxMs: number | null;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  rssBytes: number;
}

export interface SnapshotTransfer {
  /** Size of the newest snapshot file on the leader: what is sent, bytes. */
  snapshotBytes: number;
  heartbeatIntervalMs: number;
  /** `fcm node add` wall time: snapshot sent, installed, caught up, promoted to voter and Up, ms (all tries). */
  nodeAddMs: number;
  /** Errors of `fcm node add` tries that failed (the leader lost leadership meanwhile); each was tried again. */
  refusals: string[];
  /** The other follower and the receiver just before the removal (their last 10-20 s). */
  before: { follower: AgentPeaks; receiver: AgentPeaks };
  leader: AgentPeaks;
  follower: AgentPeaks;
  receiver: AgentPeaks;
}

async function newestSnapshotBytes(stateDir: string): Promise<number> {
  const dir = join(stateDir, 'raft');
  const names = (await readdir(dir)).filter((n) => /^snapshot-\d+\.snap$/.test(n)).sort();
  const newest = names.at(-1);
  return newest === undefined ? 0 : (await stat(join(dir, newest))).size;
}

const maxOrNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

function peaksOf(node: BenchNode, s: AgentStatus): AgentPeaks {
  return { node: node.name, heartbeatGapP99Ms: s.heartbeatGapP99Ms, heartbeatGapMaxMs: s.heartbeatGapMaxMs, eventLoopDelayP99Ms: s.eventLoopDelayP99Ms, eventLoopDelayMaxMs: s.eventLoopDelayMaxMs, rssBytes: s.rssBytes };
}

function merge(into: AgentPeaks | undefined, next: AgentPeaks): AgentPeaks {
  if (into === undefined) return next;
  return {
    node: into.node,
    heartbeatGapP99Ms: maxOrNull(into.heartbeatGapP99Ms, next.heartbeatGapP99Ms),
    heartbeatGapMaxMs: maxOrNull(into.heartbeatGapMaxMs, next.heartbeatGapMaxMs),
    eventLoopDelayP99Ms: Math.max(into.eventLoopDelayP99Ms, next.eventLoopDelayP99Ms),
    eventLoopDelayMaxMs: Math.max(into.eventLoopDelayMaxMs, next.eventLoopDelayMaxMs),
    rssBytes: Math.max(into.rssBytes, next.rssBytes),
  };
}

/**
 * `fcm node add` (--via the leader: a removed node cannot answer for its own
 * addition), tried again without --via when leadership moved meanwhile (add
 * is idempotent); wall time of all tries, ms.
 */
async function addBack(lab: BenchLab, receiver: BenchNode, leader: BenchNode, refusals: string[]): Promise<number> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const via = attempt === 1 ? ['--via', leader.name] : [];
    const run = await runFcm(lab.env, ['node', 'add', receiver.address, ...via, '--json'], 120_000);
    if (run.status === 0) return performance.now() - started;
    refusals.push(`${run.out.trim()}${run.err.trim()}`.replace(/\s+/g, ' '));
    if (attempt >= 3) throw new Error(`fcm node add ${receiver.address} failed ${attempt} times: ${refusals.join('; ')}`);
  }
}

export async function snapshotTransfer(lab: BenchLab): Promise<SnapshotTransfer> {
  const { leader, status } = await lab.settled();
  const [receiver, follower] = lab.nodes.filter((n) => n !== leader) as [BenchNode, BenchNode];
  const before = { follower: peaksOf(follower, await lab.status(follower)), receiver: peaksOf(receiver, await lab.status(receiver)) };
  // --via the leader: the node being removed cannot relay the answer about its own removal.
  await fcmJson(lab.env, ['node', 'remove', receiver.name, '--force', '--via', leader.name]);
  const snapshotBytes = await newestSnapshotBytes(leader.stateDir);
  process.stderr.write(`cluster: ${receiver.name} removed; adding it back: ${(snapshotBytes / 2 ** 20).toFixed(1)} MiB snapshot from ${leader.name}\n`);

  const peaks = new Map<string, AgentPeaks>();
  const readAll = async (): Promise<void> => {
    await Promise.all(lab.nodes.map(async (node) => {
      const s = await lab.status(node).catch(() => undefined);
      if (s !== undefined) peaks.set(node.name, merge(peaks.get(node.name), peaksOf(node, s)));
    }));
  };
  let adding = true;
  const poller = (async () => {
    while (adding) {
      await readAll();
      await sleep(250);
    }
  })();
  const refusals: string[] = [];
  let nodeAddMs: number;
  try {
    nodeAddMs = await addBack(lab, receiver, leader, refusals);
  } finally {
    adding = false;
    await poller;
  }
  await readAll();
  const peak = (node: BenchNode): AgentPeaks => {
    const p = peaks.get(node.name);
    if (p === undefined) throw new Error(`${node.name} never answered agent.status during the snapshot transfer`);
    return p;
  };
  return {
    snapshotBytes,
    heartbeatIntervalMs: status.heartbeatIntervalMs ?? 0,
    nodeAddMs: Math.round(nodeAddMs),
    refusals,
    before,
    leader: peak(leader),
    follower: peak(follower),
    receiver: peak(receiver),
  };
}
