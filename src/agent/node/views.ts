// What the API shows: the agent's identity and status, each node as the
// asked node sees it (the leader's view is the authoritative one: followers
// forward node and cluster views to the leader), and the cluster summary.
import { performance } from 'node:perf_hooks';
import type { AgentIdentity, AgentStatus, ClusterStatus, NodeView } from '../../client/api.js';
import type { NodeRecord } from '../db/schema.js';
import type { NodeAgent } from './node-agent.js';
import { processNice } from '../../os/scheduling.js';

const round = (ms: number | null): number | null => (ms === null ? null : Math.max(0, Math.round(ms)));

export function agentIdentity(agent: NodeAgent): AgentIdentity {
  const { nodeId, name, incarnation, keys } = agent.identity;
  return { nodeId, name, incarnation, publicKey: keys.publicKey, fingerprint: keys.fingerprint, address: agent.address, version: agent.options.version };
}

export function nodeView(agent: NodeAgent, record: NodeRecord): NodeView {
  agent.refreshLiveness();
  const status = agent.requireSession().runtime.status();
  const now = performance.now();
  const self = record.id === agent.identity.nodeId;
  const member = status.membership.members.find((m) => m.id === record.id);
  const live = agent.liveness.state(record.id, now);
  let matchIndex: number | null = null;
  if (self) matchIndex = status.lastIndex;
  else if (status.role === 'leader') matchIndex = status.progress[record.id]?.match ?? null;
  return {
    id: record.id,
    name: record.name,
    address: record.address,
    state: live?.state ?? (self ? 'Up' : 'Down'),
    role: member?.role ?? 'none',
    leader: status.leader === record.id,
    kind: record.kind,
    lastHeardMs: live?.lastHeardAt == null ? null : round(now - live.lastHeardAt),
    matchIndex,
    leaseRemainingMs: round(agent.leases.reportedRemainingMs(record.id)),
  };
}

export function nodeViews(agent: NodeAgent): NodeView[] {
  return (agent.db()?.listNodes() ?? []).map((n) => nodeView(agent, n));
}

export function clusterStatus(agent: NodeAgent): ClusterStatus {
  const session = agent.requireSession();
  const status = session.runtime.status();
  const db = session.machine.db;
  const nodes = nodeViews(agent);
  const voters = status.membership.members.filter((m) => m.role === 'voter');
  const now = performance.now();
  const stateOf = (id: string): string => nodes.find((n) => n.id === id)?.state ?? agent.liveness.state(id, now)?.state ?? 'Down';
  const up = voters.filter((m) => stateOf(m.id) !== 'Down').length;
  const needed = Math.floor(voters.length / 2) + 1;
  return {
    cluster: { id: session.record.clusterId, name: session.record.clusterName },
    leader: status.leader === null ? null : { id: status.leader, name: db.getNode(status.leader)?.name ?? status.leader },
    term: status.term,
    quorum: { voters: voters.length, needed, up, ok: up >= needed },
    nodes,
    commitIndex: status.commitIndex,
  };
}

export function agentStatus(agent: NodeAgent): AgentStatus {
  const session = agent.session;
  const status = session?.runtime.status() ?? null;
  const now = performance.now();
  const leaderId = status?.leader ?? null;
  const leaderLease = status && status.role === 'leader' && status.leaderLeaseUntil > now ? status.leaderLeaseUntil - now : null;
  const gaps = agent.heartbeatGaps.figures(now);
  const watchdog = agent.watchdogFencing();
  return {
    identity: agentIdentity(agent),
    cluster: session ? { id: session.record.clusterId, name: session.record.clusterName } : null,
    role: status?.role ?? 'none',
    term: status?.term ?? 0,
    leader: leaderId === null ? null : { id: leaderId, name: agent.db()?.getNode(leaderId)?.name ?? leaderId },
    commitIndex: status?.commitIndex ?? 0,
    appliedIndex: status?.appliedIndex ?? 0,
    leaseRemainingMs: round(agent.leases.remainingMs()),
    leaderLeaseRemainingMs: round(leaderLease),
    refusingVotes: status?.refusingVotes ?? false,
    uptimeMs: Math.round(now - agent.startedAt),
    rssBytes: process.memoryUsage.rss(),
    eventLoopDelayP99Ms: Math.round(agent.loopDelay.p99Ms() * 100) / 100,
    eventLoopDelayMaxMs: Math.round(agent.loopDelay.maxMs() * 100) / 100,
    heartbeatGapP99Ms: gaps.p99Ms,
    heartbeatGapMaxMs: gaps.maxMs,
    heartbeatIntervalMs: session?.timing.raft.heartbeatIntervalMs ?? null,
    nice: processNice(),
    fencing: watchdog === null ? { kind: 'none' } : { kind: 'watchdog', ...watchdog },
    peers: Object.entries(agent.linkStats()).map(([id, links]) => ({ id, control: links.control.up, bulk: links.bulk.up })),
  };
}
