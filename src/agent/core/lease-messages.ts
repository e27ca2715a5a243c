// What a lease holder and the leader's lease granter say to each other.
// Lease traffic never waits for a disk write (safety rule 7): these messages
// are sent at once, on the lease connection.

import type { NodeId } from '../consensus/types.js';

/** A group and the placement epoch under which it may run. */
export interface GroupEpoch {
  group: string;
  epoch: number;
}

/** Holder → leader: "renew my lease", with a report of what the holder runs. */
export interface LeaseRequest {
  from: NodeId;
  /**
   * Random identity of this holder, made when the agent process starts. A
   * restarted agent has a new session, so a grant answering its previous
   * life's request (same seq numbers, restarted from 1) is never applied.
   */
  session: string;
  /** Numbers this session's requests, from 1. The grant echoes it. */
  seq: number;
  /** The newest grant seq the holder applied (0: none); older grants can no longer apply. */
  appliedSeq: number;
  /** Pairs the holder may run now. */
  held: GroupEpoch[];
  /** Groups the holder was told to stop and whose processes it confirmed dead since. */
  stopped: GroupEpoch[];
}

/** Leader → holder: the exact list of pairs the holder may run until its anchor + leaseMs. */
export interface LeaseGrant {
  to: NodeId;
  session: string;
  /** The request this grant answers. */
  seq: number;
  /** L, ms on the holder's clock from the anchor of request `seq`. */
  leaseMs: number;
  groups: GroupEpoch[];
}

export function sameGroupEpoch(a: GroupEpoch, b: GroupEpoch): boolean {
  return a.group === b.group && a.epoch === b.epoch;
}
