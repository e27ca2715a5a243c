// `npm run bench -- cluster`: a real 3-node lab (`fcm lab up --nodes 3`),
// measured from outside the agents as a user waits, except where only an
// agent can tell (heartbeat gaps, event-loop delay, RSS: agent.status).
//   1. lab formation: `fcm lab up` wall time, three times (up, measure, down);
//   2. idle agents' RSS;
//   3. CLI wall times: `fcm status`, `fcm node list --json`, `fcm config set`;
//   4. commit to all nodes: config.set to the leader until every node's
//      config.get shows it;
//   5. throughput over SSH: 100 config.set in flight on 4 SSH connections
//      to the leader's agent, ~5 s;
//   6. failover: the leader SIGKILLed with `fcm lab kill`, time to a new
//      leader, `fcm lab start` it again; five times;
//   7. the database grown to tens of MB through config.set (the audit
//      history keeps every change, historyLimit 1,000,000), then 20 s quiet;
//   8. a follower removed and added again, so the leader sends it the whole
//      database as a snapshot: heartbeat gaps and event-loop delay meanwhile.
// Every lab is taken down in `finally` (by PID if the CLI cannot).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '../../src/client/agent-client.js';
import { SshApiClient } from '../../src/client/ssh-api-client.js';
import { BenchLab } from './cluster/bench-lab.js';
import { CLI_MAIN, timeInterleaved } from './cluster/fcm-cli.js';
import { leaderFailovers } from './cluster/failover.js';
import { snapshotTransfer } from './cluster/snapshot-transfer.js';
import { commitAlone, commitToAllNodes, writeLoad } from './cluster/writes.js';
import { summarize } from './stats.js';

const NODES = 3;
const LAB_UP_TRIALS = 3;
const CLI_RUNS = 30;
const COMMIT_SAMPLES = 200;
const SSH_CONNECTIONS = 4;
const SSH_IN_FLIGHT = 100;
const SSH_DURATION_MS = 5_000;
/** What the database is grown to, bytes of audit history (estimated from sampled records). */
const GROW_TO_BYTES = 28 * 2 ** 20;
const GROW_MAX_MS = 60_000;
const FAILOVER_TRIALS = 5;
/** Agents' metrics cover their last 10-20 s: the snapshot phase starts this long after the growth. */
const METRIC_WINDOW_MS = 20_000;
const HISTORY_LIMIT = 1_000_000;
const MiB = 2 ** 20;

/** The eight properties an administrator re-applies (values as they are): each change is one audit record of ~400 bytes. */
function fullConfig(seq: number): Record<string, string> {
  return {
    historyLimit: String(HISTORY_LIMIT - (seq % 1000)),
    clockRateBound: '0.1', guardLatency: '50ms', killTime: '50ms', rttBudget: '2ms', fencing: 'none', profile: 'lan', heartbeatInterval: '100ms',
  };
}

async function connectAll(lab: BenchLab, node: Parameters<BenchLab['connect']>[0], count: number): Promise<AgentClient[]> {
  return Promise.all(Array.from({ length: count }, () => lab.connect(node)));
}

const closeAll = (clients: AgentClient[]): Promise<unknown> => Promise.all(clients.map((c) => c.close()));

async function sshThroughput(lab: BenchLab, root: string): Promise<Awaited<ReturnType<typeof writeLoad>>> {
  const { leader } = await lab.settled();
  const clients = await Promise.all(Array.from({ length: SSH_CONNECTIONS }, () => SshApiClient.connect({
    host: leader.ssh.host,
    port: leader.ssh.port,
    identityFile: lab.adminKeyFile,
    knownHostsFile: join(root, 'known_hosts'),
    callTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    warn: () => {},
  })));
  try {
    const stopAt = performance.now() + SSH_DURATION_MS;
    return await writeLoad(clients, SSH_IN_FLIGHT, (seq) => ({ historyLimit: String(HISTORY_LIMIT - (seq % 1000)) }), () => performance.now() >= stopAt);
  } finally {
    await closeAll(clients);
  }
}

/** Grows the audit history with full-config changes until it holds about GROW_TO_BYTES. */
async function growDatabase(lab: BenchLab): Promise<object> {
  const { leader, status } = await lab.settled();
  const clients = await connectAll(lab, leader, 4);
  try {
    const first = await writeLoad(clients, 200, fullConfig, (n) => n >= 2_000);
    const sample = await (clients[0] as AgentClient).call('config.history', { limit: 1_000 });
    const recordBytes = sample.reduce((sum, r) => sum + JSON.stringify(r).length, 0) / Math.max(1, sample.length);
    const targetRecords = Math.ceil(GROW_TO_BYTES / recordBytes);
    const have = status.commitIndex + first.commits;
    const stopAt = performance.now() + GROW_MAX_MS;
    const rest = await writeLoad(clients, 200, fullConfig, (n) => have + n >= targetRecords || performance.now() >= stopAt);
    const after = await lab.settled();
    return {
      auditRecords: after.status.commitIndex,
      recordBytes: Math.round(recordBytes),
      estimatedMiB: Number(((after.status.commitIndex * recordBytes) / MiB).toFixed(1)),
      commits: first.commits + rest.commits,
      commitsPerSec: rest.commitsPerSec,
      latencyMs: rest.latencyMs,
    };
  } finally {
    await closeAll(clients);
  }
}

interface Goal {
  target: string;
  value: number | null;
  met: boolean;
}

const below = (value: number | null, limit: number): Goal => ({ target: `< ${limit}`, value, met: value !== null && value < limit });
const atLeast = (value: number, limit: number): Goal => ({ target: `>= ${limit}`, value, met: value >= limit });

export async function runClusterBenchmark(): Promise<object> {
  const root = await mkdtemp(join(tmpdir(), 'fcm-bench-cluster-'));
  let lab: BenchLab | undefined;
  try {
    const upMs: number[] = [];
    for (let t = 1; t <= LAB_UP_TRIALS; t++) {
      process.stderr.write(`cluster: fcm lab up --nodes ${NODES} (${t}/${LAB_UP_TRIALS})\n`);
      const up = await BenchLab.up(root, `lab${t}`, NODES);
      lab = up.lab;
      upMs.push(up.ms);
      if (t < LAB_UP_TRIALS) {
        await lab.down();
        lab = undefined;
      }
    }
    if (lab === undefined) throw new Error('no lab');
    const live: BenchLab = lab;

    await live.settled();
    await sleep(2_000);
    const idleRss = Object.fromEntries((await live.statuses()).map(({ node, status }) => [node.name, status.rssBytes]));

    process.stderr.write('cluster: CLI wall times\n');
    const cliTimes = await timeInterleaved(live.env, {
      nodeStart: () => ['-e', ''],
      status: () => [CLI_MAIN, 'status'],
      nodeList: () => [CLI_MAIN, 'node', 'list', '--json'],
      configSet: (i) => [CLI_MAIN, 'config', 'set', `historyLimit=${HISTORY_LIMIT - i}`],
    }, CLI_RUNS);
    const nodeStart = summarize(cliTimes.nodeStart);
    const status = summarize(cliTimes.status);
    const nodeList = summarize(cliTimes.nodeList);
    const configSet = summarize(cliTimes.configSet);

    process.stderr.write('cluster: commit to all nodes\n');
    const { leader } = await live.settled();
    const leaderClient = await live.connect(leader);
    const readers = await Promise.all(live.nodes.map((n) => live.connect(n)));
    const commit = await (async () => {
      // First with nobody polling: what the pollers themselves cost the agents shows in the difference.
      const answeredAloneMs = await commitAlone(leaderClient, COMMIT_SAMPLES, HISTORY_LIMIT - 200_000);
      return { answeredAloneMs, ...await commitToAllNodes(leaderClient, readers, COMMIT_SAMPLES, HISTORY_LIMIT - 100_000) };
    })().finally(() => closeAll([leaderClient, ...readers]));

    process.stderr.write(`cluster: ${SSH_IN_FLIGHT} config.set in flight over ${SSH_CONNECTIONS} SSH connections for ${SSH_DURATION_MS} ms\n`);
    const ssh = await sshThroughput(live, root);

    process.stderr.write(`cluster: ${FAILOVER_TRIALS} leader kills\n`);
    const failovers = await leaderFailovers(live, FAILOVER_TRIALS);

    process.stderr.write(`cluster: growing the database to ~${GROW_TO_BYTES / MiB} MiB\n`);
    const grown = await growDatabase(live);
    process.stderr.write(`cluster: ${METRIC_WINDOW_MS} ms quiet, so the agents' metrics no longer cover the growth\n`);
    await sleep(METRIC_WINDOW_MS);
    const snapshot = await snapshotTransfer(live);
    const rssAfter = Object.fromEntries((await live.statuses()).map(({ node, status: s }) => [node.name, s.rssBytes]));

    const h = snapshot.heartbeatIntervalMs;
    const delay = (gap: number | null): number | null => (gap === null ? null : Number((gap - h).toFixed(2)));
    const followerDelay = delay(snapshot.follower.heartbeatGapP99Ms);
    const receiverDelay = delay(snapshot.receiver.heartbeatGapP99Ms);
    const worstDelay = followerDelay === null || receiverDelay === null ? null : Math.max(followerDelay, receiverDelay);
    const newLeader = summarize(failovers.map((f) => f.newLeaderMs));
    const labUp = summarize(upMs, 0);
    return {
      nodes: NODES,
      labUpMs: labUp,
      idleRssBytes: idleRss,
      cli: {
        // A bare `node -e ''` in the same rounds: what Node's own start costs on this machine right now.
        nodeStartMs: nodeStart,
        statusMs: status,
        nodeListJsonMs: nodeList,
        configSetMs: configSet,
        statusOverNodeStartP50: Number((status.p50 / nodeStart.p50).toFixed(2)),
      },
      commitToAllNodes: { samples: COMMIT_SAMPLES, via: 'the leader\'s API socket', ...commit },
      sshThroughput: { to: 'the leader\'s embedded SSH server (no relay)', ...ssh },
      grownDatabase: grown,
      failover: { trials: failovers, newLeaderMs: newLeader, restartMs: summarize(failovers.map((f) => f.restartMs), 0) },
      snapshotTransfer: {
        ...snapshot,
        snapshotMiB: Number((snapshot.snapshotBytes / MiB).toFixed(1)),
        heartbeatDelayP99Ms: { follower: followerDelay, receiver: receiverDelay },
      },
      rssAfterBytes: rssAfter,
      goals: {
        fcmStatusP50Ms: below(status.p50, 120),
        commitOnAllNodesP50Ms: below(commit.allNodesMs.p50, 10),
        sshCommitsPerSec: atLeast(ssh.commitsPerSec, 5_000),
        newLeaderP99Ms: below(newLeader.p99, 1_000),
        heartbeatDelayP99DuringSnapshotMs: below(worstDelay, 10),
        labUpP50Ms: below(labUp.p50, 3_000),
        idleAgentRssMaxMiB: below(Number((Math.max(...Object.values(idleRss)) / MiB).toFixed(1)), 80),
      },
    };
  } finally {
    if (lab !== undefined) await lab.down();
    await rm(root, { recursive: true, force: true });
  }
}
