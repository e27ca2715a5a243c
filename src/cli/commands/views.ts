// Human renderings of the API's results, shared by the commands that print
// them. --json prints the results themselves (api.ts documents the shapes).
import type { ClusterStatus, NodeView } from '../../client/api.js';
import { renderKeyValues, renderTable } from '../render.js';

/** `850ms`, `1.2s`, `3m 20s`: a person's reading of a duration in ms. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m ${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${mib.toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** The role a person cares about first: leader, else voter / learner. */
export function roleWord(node: NodeView): string {
  return node.leader ? 'leader' : node.role;
}

export function renderNodeTable(nodes: readonly NodeView[]): string {
  return renderTable(
    ['NAME', 'STATE', 'ROLE', 'ADDRESS', 'LAST HEARD', 'MATCH', 'LEASE LEFT'],
    nodes.map((n) => [n.name, n.state, roleWord(n), n.address, formatMs(n.lastHeardMs), n.matchIndex, formatMs(n.leaseRemainingMs)]),
  );
}

export function renderNode(node: NodeView): string {
  return renderKeyValues([
    ['name', node.name],
    ['id', node.id],
    ['state', node.state],
    ['role', roleWord(node)],
    ['kind', node.kind],
    ['address', node.address],
    ['last heard', formatMs(node.lastHeardMs)],
    ['match index', node.matchIndex],
    ['lease left', formatMs(node.leaseRemainingMs)],
  ]);
}

export function quorumWords(quorum: ClusterStatus['quorum']): string {
  return `${quorum.ok ? 'ok' : 'LOST'}: ${quorum.up} of ${quorum.voters} voters up, ${quorum.needed} needed`;
}

/** The cluster at a glance: who leads, whether there is quorum, every node. */
export function renderClusterStatus(status: ClusterStatus): string {
  const header = renderKeyValues([
    ['cluster', `${status.cluster.name} (${status.cluster.id})`],
    ['leader', status.leader === null ? 'none (election in progress, or no quorum)' : `${status.leader.name}, term ${status.term}`],
    ['quorum', quorumWords(status.quorum)],
    ['committed', status.commitIndex],
  ]);
  return `${header}\n${renderNodeTable(status.nodes)}`;
}
