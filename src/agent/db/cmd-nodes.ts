// Handlers of node commands. A node's id is its consensus identity and
// never changes; its name, address, host key and incarnation may (a node
// re-imaged with a new state directory gets a new incarnation).

import type { CommandContext, Handler } from './input.js';
import type { ClusterState, GroupRecord, NodeKind, NodeRecord, ResumeFailback } from './schema.js';
import { checkLastVoter, checkQuorumRisk, listNames, voterCount } from './queries.js';
import { findNode, sortedValues, sortedWhere } from './schema.js';
import { isSshPublicKey, parseAddress, show, sshKeyBlob } from './names.js';

const NODE_KINDS: readonly NodeKind[] = ['node', 'witness-agent'];
const RESUME_FAILBACKS: readonly ResumeFailback[] = ['now', 'policy', 'never'];

/**
 * Reads the changeable identity fields (all required when adding) and checks them for clashes with every other node.
 */
function readIdentity({ state, cmd, sink }: CommandContext, required: boolean, selfId: string | null): Partial<NodeRecord> {
  const others = sortedValues(state.nodes).filter((n) => n.id !== selfId);
  const out: Partial<NodeRecord> = {};
  const name = cmd.name('name', 'node', required);
  if (name !== undefined) {
    const clash = others.find((n) => n.name === name || n.id === name);
    if (clash) sink.error('E_EXISTS', `node ${clash.name} already has the ${clash.name === name ? 'name' : 'id'} ${name}`, { field: 'name' });
    out.name = name;
  }
  const address = cmd.string('address', required, 300);
  if (address !== undefined) {
    if (parseAddress(address) === null) cmd.invalid('address', `address ${show(address)} is not host:port`, 'e.g. 10.0.0.11:2222 or [fd00::11]:2222');
    const clash = others.find((n) => n.address === address);
    if (clash) sink.error('E_EXISTS', `node ${clash.name} already has the address ${address}`, { field: 'address' });
    out.address = address;
  }
  const hostKey = cmd.string('hostKey', required, 16_384);
  if (hostKey !== undefined) {
    if (!isSshPublicKey(hostKey)) cmd.invalid('hostKey', 'hostKey is not an OpenSSH public key', 'e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub');
    const clash = others.find((n) => sshKeyBlob(n.hostKey) === sshKeyBlob(hostKey));
    if (clash) sink.error('E_EXISTS', `node ${clash.name} already has this host key`, { field: 'hostKey' });
    out.hostKey = hostKey.trim();
  }
  const incarnation = cmd.string('incarnation', required, 128);
  if (incarnation !== undefined) {
    if (!/^[A-Za-z0-9._:-]+$/.test(incarnation)) cmd.invalid('incarnation', `incarnation ${show(incarnation)} may hold only letters, digits, '.', '_', ':' and '-'`);
    out.incarnation = incarnation;
  }
  const voteWeight = cmd.integer('voteWeight', 0, 1);
  if (voteWeight !== undefined) out.voteWeight = voteWeight;
  return out;
}

export const nodeAdd: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'id', 'name', 'address', 'hostKey', 'incarnation', 'voteWeight', 'kind']);
  const id = cmd.name('id', 'node');
  if (id !== undefined) {
    const clash = state.nodes.get(id) ?? sortedValues(state.nodes).find((n) => n.name === id);
    if (clash) sink.error('E_EXISTS', `node ${clash.name} already has the ${clash.id === id ? 'id' : 'name'} ${id}`, { field: 'id' });
  }
  const identity = readIdentity(ctx, true, null);
  const kind = cmd.choice('kind', NODE_KINDS, false) ?? 'node';
  const { name, address, hostKey, incarnation } = identity;
  if (id === undefined || name === undefined || address === undefined || hostKey === undefined || incarnation === undefined) return undefined;
  const node: NodeRecord = { id, name, address, hostKey, incarnation, voteWeight: identity.voteWeight ?? 1, kind, paused: false, drain: false, resumed: null };
  return (s) => {
    s.nodes.set(id, node);
  };
};

/** Groups and resources whose owner lists name the node. */
function ownerListsNaming(state: ClusterState, id: string): { name: string; possibleOwners: string[] }[] {
  const names = (x: { possibleOwners: string[] }): boolean => x.possibleOwners.includes(id) || ('preferredOwners' in x && (x as GroupRecord).preferredOwners.includes(id));
  return [...sortedWhere(state.groups, names), ...sortedWhere(state.resources, names)];
}

export const nodeRemove: Handler = ({ state, cmd, sink, at }) => {
  cmd.only(['type', 'node']);
  const ref = cmd.string('node', true, 63);
  const node = ref === undefined ? undefined : findNode(state, ref);
  if (ref !== undefined && !node) sink.error('E_NOT_FOUND', `no node ${show(ref)}`, { field: 'node' });
  if (!node) return undefined;
  const owned = sortedValues(state.placements).filter((p) => p.node === node.id).map((p) => p.group);
  if (owned.length > 0) {
    sink.forceable('E_IN_USE', `node ${node.name} owns groups ${listNames(owned)}`, { field: 'node', hint: 'move them first; forcing leaves them placed nowhere' });
  }
  const listed = ownerListsNaming(state, node.id);
  const onlyOwner = listed.filter((x) => x.possibleOwners.length === 1 && x.possibleOwners[0] === node.id).map((x) => x.name);
  if (onlyOwner.length > 0) {
    // Taking it out would leave an empty list, which means "any node".
    sink.error('E_IN_USE', `${listNames(onlyOwner)} may run only on node ${node.name}`, { field: 'node', hint: 'change their possible owners first' });
  } else if (listed.length > 0) {
    sink.warning('E_IN_USE', `node ${node.name} will be taken out of the owner lists of ${listNames(listed.map((x) => x.name))}`, { field: 'node' });
  }
  checkLastVoter(state, node, sink, 'node');
  if (node.voteWeight > 0) checkQuorumRisk(state.quorum.mode, voterCount(state.nodes.values()) - 1, sink, 'node');
  return (s) => {
    s.nodes.delete(node.id);
    // Records are replaced, never changed: readers hold them frozen, and snapshots in progress share them.
    const without = (ids: string[]): string[] => ids.filter((id) => id !== node.id);
    for (const [name, group] of s.groups) {
      if (group.possibleOwners.includes(node.id) || group.preferredOwners.includes(node.id)) {
        s.groups.set(name, { ...group, possibleOwners: without(group.possibleOwners), preferredOwners: without(group.preferredOwners) });
      }
    }
    for (const [name, resource] of s.resources) {
      if (resource.possibleOwners.includes(node.id)) s.resources.set(name, { ...resource, possibleOwners: without(resource.possibleOwners) });
    }
    for (const group of owned) {
      s.placementEpoch += 1;
      s.placements.set(group, { group, node: null, epoch: s.placementEpoch, at });
    }
  };
};

/**
 * A pause forgets the last resume; a resume (paused: false on a paused node)
 * records its failback choice with the placement epoch counter, so that the
 * placement planner, on any leader, knows which groups it concerns.
 */
export const nodeSet: Handler = (ctx) => {
  const { state, cmd, sink } = ctx;
  cmd.only(['type', 'node', 'name', 'address', 'hostKey', 'incarnation', 'voteWeight', 'paused', 'drain', 'failback']);
  const ref = cmd.string('node', true, 63);
  const node = ref === undefined ? undefined : findNode(state, ref);
  if (ref !== undefined && !node) sink.error('E_NOT_FOUND', `no node ${show(ref)}`, { field: 'node' });
  if (cmd.keys().length <= 2) sink.error('E_REQUIRED', 'nothing to change', { hint: 'give name, address, hostKey, incarnation, voteWeight, paused or drain' });
  const identity = readIdentity(ctx, false, node?.id ?? null);
  const paused = cmd.boolean('paused');
  const drain = cmd.boolean('drain');
  const failback = cmd.choice('failback', RESUME_FAILBACKS, false);
  if (failback !== undefined && paused !== false) cmd.invalid('failback', 'failback goes only with a resume (paused: false)', 'resume the node: paused: false');
  if (!node) return undefined;
  const next: NodeRecord = { ...node, ...identity, paused: paused ?? node.paused };
  next.drain = drain ?? (next.paused && node.drain);
  if (next.drain && !next.paused) cmd.invalid('drain', 'drain applies only to a paused node', 'pause the node with drain: true');
  if (next.paused) next.resumed = null;
  else if (node.paused) next.resumed = { failback: failback ?? 'policy', epoch: state.placementEpoch };
  if (node.voteWeight > 0 && next.voteWeight === 0) {
    checkLastVoter(state, node, sink, 'voteWeight');
    checkQuorumRisk(state.quorum.mode, voterCount(state.nodes.values()) - 1, sink, 'voteWeight');
  }
  return (s) => {
    s.nodes.set(node.id, next);
  };
};
