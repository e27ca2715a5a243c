// Membership arithmetic: who votes, who can answer, what a quorum is, and
// whether a single-server change is allowed.
//
// Metadata witnesses (QUORUM-DISK.md) are voters in the configuration's
// shape, so they count in the quorum size, but no witness exists yet: the
// core sends them nothing and treats them as unreachable (they never ack,
// never vote, never campaign). That is the safe reading: a quorum is never
// smaller than the configuration says, and degraded mode (the witness
// counted toward commit) arrives with the witness itself.

import type { Member, Membership, MembershipChange, NodeId } from './types.js';

export const emptyMembership: Membership = { members: [] };

export function findMember(m: Membership, id: NodeId): Member | undefined {
  return m.members.find((x) => x.id === id);
}

export function isVoter(m: Membership, id: NodeId): boolean {
  return findMember(m, id)?.role === 'voter';
}

/** Voters in the configuration, witnesses included: the quorum's denominator. */
export function voterIds(m: Membership): NodeId[] {
  return m.members.filter((x) => x.role === 'voter').map((x) => x.id);
}

/** Members that take part in the protocol over the network (everyone but metadata witnesses). */
export function isReachableKind(member: Member): boolean {
  return member.kind !== 'metadata-witness';
}

/** May this node start an election? Only a reachable voter. */
export function canCampaign(m: Membership, id: NodeId): boolean {
  const me = findMember(m, id);
  return me !== undefined && me.role === 'voter' && isReachableKind(me);
}

export function quorumSize(m: Membership): number {
  return Math.floor(voterIds(m).length / 2) + 1;
}

/**
 * The largest value that a quorum of voters has reached: each voter's value
 * comes from `valueOf` (undefined counts as -Infinity, as for a witness).
 * Used for commit (match indexes), the lease (acked rounds) and check-quorum
 * (last-heard times).
 */
export function quorumValue(m: Membership, valueOf: (id: NodeId) => number | undefined): number {
  const values = voterIds(m)
    .map((id) => valueOf(id) ?? -Infinity)
    .sort((a, b) => b - a);
  return values[quorumSize(m) - 1] ?? -Infinity;
}

/** Same members with the same fields, whatever the order of members or keys. */
export function sameMembership(a: Membership, b: Membership): boolean {
  const canonical = (m: Membership) =>
    JSON.stringify([...m.members].sort((x, y) => (x.id < y.id ? -1 : 1)).map((x) => [x.id, x.incarnation, x.kind, x.role]));
  return canonical(a) === canonical(b);
}

export type ChangeOutcome = { ok: true; membership: Membership } | { ok: false; message: string };

/**
 * The configuration after `change`, or why it is refused. Catch-up of a
 * promoted learner is the leader's check (it needs replication progress).
 */
export function applyMembershipChange(m: Membership, change: MembershipChange): ChangeOutcome {
  const existing = findMember(m, change.id);
  switch (change.type) {
    case 'add-learner': {
      if (existing) return { ok: false, message: `${change.id} is already a member (${existing.role})` };
      if (change.kind === 'metadata-witness') {
        return { ok: false, message: 'metadata witnesses are not supported yet: they keep no log to catch up as learners' };
      }
      const member: Member = { id: change.id, incarnation: change.incarnation, kind: change.kind, role: 'learner' };
      return { ok: true, membership: { members: [...m.members, member] } };
    }
    case 'promote': {
      if (!existing) return { ok: false, message: `${change.id} is not a member` };
      if (existing.role !== 'learner') return { ok: false, message: `${change.id} is already a voter` };
      return {
        ok: true,
        membership: { members: m.members.map((x) => (x.id === change.id ? { ...x, role: 'voter' as const } : x)) },
      };
    }
    case 'remove': {
      if (!existing) return { ok: false, message: `${change.id} is not a member` };
      const rest: Membership = { members: m.members.filter((x) => x.id !== change.id) };
      if (!rest.members.some((x) => x.role === 'voter' && isReachableKind(x))) {
        return { ok: false, message: `removing ${change.id} would leave no voter that can lead` };
      }
      return { ok: true, membership: rest };
    }
  }
}
