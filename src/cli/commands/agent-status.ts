// fcm agent status: one agent's own view: its role, its lease, its CPU
// priority, its fencing, its peers.
//   --json: AgentStatus.
import type { AgentStatus } from '../../client/api.js';
import type { CommandContext, CommandResult } from '../command-spec.js';
import { renderKeyValues } from '../render.js';
import { formatBytes, formatMs } from './views.js';

export async function agentStatus(context: CommandContext): Promise<CommandResult> {
  const status = await (await context.connect()).call('agent.status', {});
  return { data: status, text: () => renderAgentStatus(status) };
}

/** Why a node without a lease matters: it may not run groups. */
function leaseWords(status: AgentStatus): string {
  if (status.leaseRemainingMs === null) return status.cluster === null ? '-' : 'none (may not run groups)';
  return `${formatMs(status.leaseRemainingMs)} left`;
}

function fencingWords(fencing: AgentStatus['fencing']): string {
  if (fencing.kind === 'none') return 'none';
  return `watchdog ${fencing.device} (T_wd ${fencing.timeoutMs === null ? 'not read yet' : formatMs(fencing.timeoutMs)})`;
}

export function renderAgentStatus(status: AgentStatus): string {
  const peers = status.peers.map((p) => `${p.id} (${p.control ? 'control up' : 'control DOWN'}, ${p.bulk ? 'bulk up' : 'bulk down'})`);
  return renderKeyValues([
    ['node', `${status.identity.name} (${status.identity.nodeId})`],
    ['address', status.identity.address],
    ['host key', status.identity.fingerprint],
    ['version', status.identity.version],
    ['cluster', status.cluster === null ? 'none (fresh agent)' : `${status.cluster.name} (${status.cluster.id})`],
    ['role', status.role],
    ['term', status.term],
    ['leader', status.leader?.name ?? 'none known'],
    ['committed', status.commitIndex],
    ['applied', status.appliedIndex],
    ['node lease', leaseWords(status)],
    ['leader lease', status.leaderLeaseRemainingMs === null ? '-' : `${formatMs(status.leaderLeaseRemainingMs)} left`],
    ['refusing votes', status.refusingVotes ? 'yes' : 'no'],
    ['uptime', formatMs(status.uptimeMs)],
    ['memory (RSS)', formatBytes(status.rssBytes)],
    ['event loop p99', `${status.eventLoopDelayP99Ms.toFixed(1)}ms`],
    ['CPU priority', `nice ${status.nice}`],
    ['fencing', fencingWords(status.fencing)],
    ['peers', peers.length === 0 ? 'none' : peers.join(', ')],
  ]);
}
