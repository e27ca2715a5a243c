// Time to a new leader after the leader's agent is SIGKILLed with
// `fcm lab kill`: from the moment the process is gone (its API socket
// closes under an open connection, exactly when the kernel tears the
// process down) until a survivor's agent.status says it leads in a higher
// term (survivors polled back to back). Then `fcm lab start` brings the
// node back and the next trial waits for it to catch up.
import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStatus } from '../../../src/client/api.js';
import type { BenchLab, BenchNode } from './bench-lab.js';
import { fcmJson } from './fcm-cli.js';

export interface FailoverTrial {
  killed: string;
  newLeader: string;
  /** Process gone → a survivor leads, ms. */
  newLeaderMs: number;
  /** `fcm lab start` wall time, ms (the agent answers on its socket). */
  restartMs: number;
}

/** Once connected: `died` resolves with performance.now() when the process behind `socket` closes the connection. */
async function watchForDeath(socket: string): Promise<{ died: Promise<number> }> {
  const conn = createConnection(socket);
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  conn.on('error', () => {});
  // Wrapped: an async function returning a bare promise would wait for it.
  return { died: new Promise((resolve) => conn.once('close', () => resolve(performance.now()))) };
}

async function newLeaderAmong(lab: BenchLab, survivors: BenchNode[], aboveTerm: number, timeoutMs: number): Promise<{ node: BenchNode; at: number }> {
  const clients = await Promise.all(survivors.map((n) => lab.connect(n, 2_000)));
  const deadline = performance.now() + timeoutMs;
  let winner: { node: BenchNode; at: number } | undefined;
  try {
    await Promise.all(clients.map(async (client, i) => {
      while (winner === undefined && performance.now() < deadline) {
        const s: AgentStatus | undefined = await client.call('agent.status', {}).catch(() => undefined);
        if (s?.role === 'leader' && s.term > aboveTerm) winner ??= { node: survivors[i] as BenchNode, at: performance.now() };
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  if (winner === undefined) throw new Error(`no new leader within ${timeoutMs} ms`);
  return winner;
}

export async function leaderFailovers(lab: BenchLab, trials: number): Promise<FailoverTrial[]> {
  const results: FailoverTrial[] = [];
  for (let t = 1; t <= trials; t++) {
    const { leader, status } = await lab.settled();
    // Quiet for two heartbeats, so no trial starts in the middle of the last one's catch-up traffic.
    await sleep(200);
    const { died } = await watchForDeath(leader.socket);
    const kill = fcmJson(lab.env, ['lab', 'kill', leader.name]);
    // Settled here, so that a failed kill is reported rather than left unhandled while waiting for the death.
    const deathAt = await Promise.race([died, kill.then(() => died)]);
    const elected = await newLeaderAmong(lab, lab.nodes.filter((n) => n !== leader), status.term, 10_000);
    await kill;
    const started = await fcmJson(lab.env, ['lab', 'start', leader.name]);
    results.push({ killed: leader.name, newLeader: elected.node.name, newLeaderMs: Math.round(elected.at - deathAt), restartMs: Math.round(started.ms) });
    process.stderr.write(`cluster: failover ${t}/${trials}: ${leader.name} killed, ${elected.node.name} leads after ${Math.round(elected.at - deathAt)} ms\n`);
  }
  await lab.settled();
  return results;
}
