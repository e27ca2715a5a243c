// Questions several commands ask of the state. All walks are in key order.

import type { ClusterState, NodeRecord, QuorumMode, ResourceRecord, ResourceState, ResourceTypeKind } from './schema.js';
import type { ReportSink } from './report.js';
import { sortedWhere } from './schema.js';

export function resourceKind(state: ClusterState, resource: ResourceRecord): ResourceTypeKind | undefined {
  return state.resourceTypes.get(resource.type)?.kind;
}

/**
 * The resource's state in its group's current placement epoch: a record
 * from an earlier epoch describes an earlier placement, in which the
 * resource is Offline.
 */
export function currentState(state: ClusterState, resource: string, group: string): ResourceState {
  const record = state.resourceStates.get(resource);
  return record !== undefined && record.epoch === (state.placements.get(group)?.epoch ?? 0) ? record.state : 'Offline';
}

export function resourcesInGroup(state: ClusterState, group: string): ResourceRecord[] {
  return sortedWhere(state.resources, (r) => r.group === group);
}

/** Disk resources that mount a filesystem: dirty pages of killed processes still reach the disk, so they need fencing. */
export function mountedDiskResources(state: ClusterState): ResourceRecord[] {
  return sortedWhere(state.resources, (r) => resourceKind(state, r) === 'disk' && Object.hasOwn(r.parameters, 'mountpoint'));
}

export function voterCount(nodes: Iterable<NodeRecord>): number {
  let count = 0;
  for (const node of nodes) if (node.voteWeight > 0) count++;
  return count;
}

/** Two voters and no witness: losing either node loses quorum. Forceable. */
export function checkQuorumRisk(mode: QuorumMode, voters: number, sink: ReportSink, field?: string): void {
  if (mode === 'node-majority' && voters === 2) {
    sink.forceable('E_QUORUM_AT_RISK', 'with two voting nodes and no witness, the cluster loses quorum when either node fails', {
      field,
      hint: 'add a witness (quorum set --mode node-and-witness --witness ...) or a third node',
    });
  }
}

/** Refuses taking away the last vote (or the last voting node). Forceable. */
export function checkLastVoter(state: ClusterState, node: NodeRecord, sink: ReportSink, field?: string): void {
  if (node.voteWeight > 0 && voterCount(state.nodes.values()) === 1) {
    sink.forceable('E_LAST_VOTER', `node ${node.name} is the last voting node: without it no node can form a quorum`, { field });
  }
}

export function listNames(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
