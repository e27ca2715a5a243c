// The scale and latency half of `npm run bench -- failover`, on a real lab
// of `nodes` nodes (`fcm lab up`, default settings), measured from outside
// the agents:
//   1. RSS of each node's fcm processes (agent + monitors + guard) idle;
//   2. restart after a resource's process dies (scale-restart.ts): 30
//      trials at the default restart delay on a follower, and 30 with
//      delay 0 (what the path costs besides the policy's wait) on a
//      follower and 30 on the leader;
//   3. 1,000 resources in 100 groups (scale-thousand.ts): creation, all
//      online at once, RSS with 1,000 online, all offline at once; how many
//      terms the online took and what the agents logged of overload
//      (leadership handed over, leases lost, groups killed by the guard);
//   4. after `fcm lab down`: λ and K on this machine (guard/measure.ts).
// The lab is taken down in `finally` (by PID if the CLI cannot).
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureGuardLatency, measureKillTime } from '../../../src/agent/guard/measure.js';
import { findCgroup2Mount } from '../../../src/agent/guard/mountinfo.js';
import type { UnixSocketClient } from '../../../src/client/unix-socket-client.js';
import { loadLabState } from '../../../src/lab/lab-state.js';
import { BenchLab } from '../cluster/bench-lab.js';
import { restartLatency } from './scale-restart.js';
import type { RestartResult } from './scale-restart.js';
import { fcmRss, maxAnonMiB, maxTogetherMiB, maxTotalMiB, rssReport } from './scale-rss.js';
import type { FcmNode } from './scale-rss.js';
import { createThousand, groupCgroupDirs, ownersOf, THOUSAND, transitionAll } from './scale-thousand.js';

export interface ScaleBenchOptions {
  nodes: number;
  /** Kills per restart configuration (default 30). */
  restartTrials?: number;
  /** Samples of λ (default 300) and of K (default 30). */
  lambdaSamples?: number;
  killSamples?: number;
  /** Copy each node's agent log here (as NODE.log) before the lab goes down. */
  logDir?: string;
}

/** Seconds the Pacemaker comparison took to start 1,000 resources. */
const PACEMAKER_1000_START_S = 38;
/** RSS reads with 1,000 online: this many, this far apart (ms), the largest kept. */
const RSS_READS = 5;
const RSS_READ_GAP_MS = 1_000;
/** Quiet time after the creation, ms. */
const QUIET_MS = 3_000;

interface Goal {
  target: string;
  value: number | null;
  met: boolean;
}

const atMost = (value: number | null, limit: number): Goal => ({ target: `<= ${limit}`, value, met: value !== null && value <= limit });

async function fcmNodes(lab: BenchLab): Promise<FcmNode[]> {
  const state = await loadLabState(lab.dir);
  return state.nodes.map((n) => {
    if (n.process === null) throw new Error(`lab node ${n.name} has no running agent`);
    return { name: n.name, agentPid: n.process.pid, stateDir: n.stateDir };
  });
}

/** What the agents logged that tells of overload: how often, per node (the lab's JSON log lines). */
const TROUBLE = ['event loop lags: handing leadership over', 'leading the cluster', 'lease lost', 'resource failed', 'resource online failed', 'lease guard killed every group'];

async function troubleLogged(lab: BenchLab): Promise<Record<string, Record<string, number>>> {
  const state = await loadLabState(lab.dir);
  return Object.fromEntries(await Promise.all(state.nodes.map(async (n) => {
    const text = await readFile(n.logFile, 'utf8').catch(() => '');
    return [n.name, Object.fromEntries(TROUBLE.map((msg) => [msg, text.split(`"msg":"${msg}"`).length - 1]))] as const;
  })));
}

async function copyLogs(lab: BenchLab, dir: string): Promise<void> {
  const state = await loadLabState(lab.dir);
  await mkdir(dir, { recursive: true });
  await Promise.all(state.nodes.map((n) => copyFile(n.logFile, join(dir, `${n.name}.log`))));
}

/** The highest term any node reports: each election or leadership transfer adds one. */
async function term(lab: BenchLab): Promise<number> {
  return Math.max(...(await lab.statuses()).map(({ status }) => status.term));
}

async function connections(lab: BenchLab, count: number): Promise<UnixSocketClient[]> {
  const { leader } = await lab.settled();
  return Promise.all(Array.from({ length: count }, () => lab.connect(leader, 120_000)));
}

export async function runScaleBench(options: ScaleBenchOptions): Promise<object> {
  const { nodes } = options;
  const restartTrials = options.restartTrials ?? 30;
  const mount = await findCgroup2Mount();
  if (mount === null) throw new Error('cgroup v2 is not mounted: the benchmark finds a resource\'s process through its group\'s cgroup');
  const cgroupRoot = join(mount, 'fcm');
  const root = await mkdtemp(join(tmpdir(), 'fcm-bench-scale-'));
  let lab: BenchLab | undefined;
  const clients: UnixSocketClient[] = [];
  try {
    process.stderr.write(`scale: fcm lab up --nodes ${nodes}\n`);
    const up = await BenchLab.up(root, 'lab', nodes);
    lab = up.lab;
    const live = lab;
    const { all } = await live.settled();
    const nodeIds = new Map(all.map(({ node, status }) => [node.name, status.identity.nodeId]));
    const procs = await fcmNodes(live);
    await sleep(2_000);
    const idle = await fcmRss(procs);

    clients.push(...await connections(live, 4));
    const api = clients[0] as UnixSocketClient;
    const setup = { lab: live, api, cgroupRoot, nodeIds };
    const restart: Record<string, RestartResult> = {};
    const settled = await live.settled();
    const follower = live.nodes.find((n) => n !== settled.leader) ?? settled.leader;
    process.stderr.write(`scale: ${restartTrials} restarts at the default delay on a follower\n`);
    restart.defaultDelay = await restartLatency(setup, 'restart-default', restartTrials, undefined, follower);
    process.stderr.write(`scale: ${restartTrials} restarts with delay 0 on a follower\n`);
    restart.zeroDelayOnFollower = await restartLatency(setup, 'restart-zero-f', restartTrials, '0ms', follower);
    process.stderr.write(`scale: ${restartTrials} restarts with delay 0 on the leader\n`);
    restart.zeroDelayOnLeader = await restartLatency(setup, 'restart-zero-l', restartTrials, '0ms', settled.leader);

    process.stderr.write(`scale: creating ${THOUSAND.groups * THOUSAND.perGroup} resources in ${THOUSAND.groups} groups\n`);
    const creation = await createThousand(clients, THOUSAND);
    const { leader } = await live.settled();
    const poller = await live.connect(live.nodes.find((n) => n !== leader) ?? leader, 120_000);
    clients.push(poller);
    // The creation's commits and answers are behind the agents: the online starts from a quiet cluster.
    await sleep(QUIET_MS);
    const afterCreate = await fcmRss(procs);
    process.stderr.write('scale: all groups online at once\n');
    const dirs = groupCgroupDirs(cgroupRoot, [...nodeIds.values()], THOUSAND);
    const termBefore = await term(live);
    const online = await transitionAll(clients, poller, THOUSAND, 'online', dirs);
    const termsDuringOnline = (await term(live)) - termBefore;
    process.stderr.write(`scale: all Online after ${online.allMs ?? 'timeout'} ms\n`);
    const owners = await ownersOf(poller);
    let withThousand = await fcmRss(procs);
    for (let i = 1; i < RSS_READS; i++) {
      await sleep(RSS_READ_GAP_MS);
      const again = await fcmRss(procs);
      withThousand = withThousand.map((r, k) => ((again[k]?.totalBytes ?? 0) > r.totalBytes ? again[k] ?? r : r));
    }
    const statuses = await live.statuses();
    process.stderr.write('scale: all groups offline at once\n');
    const offline = await transitionAll(clients, poller, THOUSAND, 'offline', dirs);
    process.stderr.write(`scale: all Offline after ${offline.allMs ?? 'timeout'} ms\n`);
    const afterOffline = await fcmRss(procs);
    // Since the lab came up: the restart trials add one 'resource failed' per kill.
    const logged = await troubleLogged(live);
    if (options.logDir !== undefined) await copyLogs(live, options.logDir);

    await Promise.all(clients.splice(0).map((c) => c.close()));
    await live.down();
    lab = undefined;

    process.stderr.write('scale: λ and K on this machine\n');
    const lambda = await measureGuardLatency(options.lambdaSamples ?? 300);
    const kill = await measureKillTime(options.killSamples ?? 30);

    const onlineS = online.allMs === null ? null : online.allMs / 1000;
    return {
      nodes,
      labUpMs: Math.round(up.ms),
      restart,
      thousand: {
        creation,
        owners,
        online,
        offline,
        termsDuringOnline,
        agentLogCounts: logged,
        onlineVsPacemaker: onlineS === null ? null : Number((PACEMAKER_1000_START_S / onlineS).toFixed(1)),
        agentStatusWithThousand: Object.fromEntries(statuses.map(({ node, status }) => [node.name, {
          eventLoopDelayP99Ms: status.eventLoopDelayP99Ms, eventLoopDelayMaxMs: status.eventLoopDelayMaxMs, heartbeatGapMaxMs: status.heartbeatGapMaxMs,
        }])),
      },
      rss: {
        idle: rssReport(idle),
        afterCreate: rssReport(afterCreate),
        withThousandOnline: rssReport(withThousand),
        afterOffline: rssReport(afterOffline),
        maxNodeTotalMiB: { idle: maxTotalMiB(idle), withThousandOnline: maxTotalMiB(withThousand) },
        maxNodeAnonTotalMiB: { idle: maxAnonMiB(idle), withThousandOnline: maxAnonMiB(withThousand) },
        maxNodeTogetherMiB: { idle: maxTogetherMiB(idle), withThousandOnline: maxTogetherMiB(withThousand) },
      },
      lambdaMs: lambda,
      killTimeMs: { processesPerGroup: 10, ...kill },
      goals: {
        restartNewProcessP50Ms: atMost(restart.defaultDelay.newPidMs.p50, 100),
        restartOnlineP50Ms: atMost(restart.defaultDelay.onlineMs.p50, 100),
        thousandOnlineMs: atMost(online.allMs, 5_000),
        thousandOfflineMs: atMost(offline.allMs, 5_000),
        // Together: the node binary's shared pages once (scale-rss.ts); the VmRSS sum is reported above.
        nodeRssWithThousandMiB: atMost(maxTogetherMiB(withThousand), 150),
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (lab !== undefined) await lab.down();
    await rm(root, { recursive: true, force: true });
  }
}
