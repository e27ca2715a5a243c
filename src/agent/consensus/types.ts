// The consensus core's contract: what goes in, what comes out, and what the
// caller (the agent runtime, or the simulator) must do with the output.
//
// The core is pure: it never reads a clock, never draws a random number of
// its own, never does I/O. Every call takes `now`, the caller's local
// monotonic clock in milliseconds; randomness comes from an injected `Rng`.
// Model: etcd's raft RawNode with its Ready/Advance loop.

export type NodeId = string;

/** A seeded source of randomness, injected so a seed replays a cluster. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
}

/**
 * What kind of voter a member is. The core treats the first two alike for
 * consensus (both keep the full log and may campaign); placement later
 * keeps groups off witness agents.
 * - `node`: a full agent; runs resources.
 * - `witness-agent`: an fcm agent that votes but never runs resources.
 * - `metadata-witness`: a disk or share witness (QUORUM-DISK.md) that keeps
 *   only term, vote and last log position, never campaigns, receives no
 *   entries, and counts toward commit only in degraded mode. Reserved here so
 *   the membership shape need not change when witnesses arrive.
 */
export type VoterKind = 'node' | 'witness-agent' | 'metadata-witness';

/** A member's role in the current configuration. Learners receive the log but do not vote. */
export type MemberRole = 'voter' | 'learner';

export interface Member {
  id: NodeId;
  /**
   * Random identity of this node's state directory, made when it was first
   * initialised. A re-imaged node gets a new incarnation, so it cannot vote
   * as its old self with an empty log: messages whose `fromIncarnation`
   * differs from the member's recorded incarnation are dropped.
   */
  incarnation: string;
  kind: VoterKind;
  role: MemberRole;
}

/** A cluster configuration. Takes effect on each node as soon as its entry is in that node's log. */
export interface Membership {
  members: Member[];
}

/** One change at a time (single-server membership change). */
export type MembershipChange =
  | { type: 'add-learner'; id: NodeId; incarnation: string; kind: VoterKind }
  | { type: 'promote'; id: NodeId }
  | { type: 'remove'; id: NodeId };

export type EntryKind =
  /** Appended by a new leader so that it can commit entries of its own term. */
  | 'noop'
  /** Opaque state-machine command (the cluster database's JSON). */
  | 'command'
  /** `data` is a JSON `Membership`. */
  | 'config';

export interface Entry {
  index: number;
  term: number;
  kind: EntryKind;
  data: string;
}

/** The durable part of a node's state that is not the log. */
export interface HardState {
  term: number;
  votedFor: NodeId | null;
  /** Highest index known committed. Safe to lose (it is recomputed), persisted as a hint. */
  commit: number;
}

export interface SnapshotMeta {
  /** Index and term of the last entry the snapshot covers. */
  index: number;
  term: number;
  /** The configuration in effect at `index`. */
  membership: Membership;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The state machine's serialized state (opaque to the core). */
  data: string;
}

/** Every message carries the cluster id and the sender's incarnation. */
export interface MessageHeader {
  clusterId: string;
  from: NodeId;
  to: NodeId;
  /** Sender's current term (for pre-vote: the term it would campaign in). */
  term: number;
  fromIncarnation: string;
}

export type MessageBody =
  | { type: 'prevote'; lastLogIndex: number; lastLogTerm: number }
  | { type: 'prevote-resp'; granted: boolean }
  /** `transfer`: sent after a leadership transfer's timeout-now; it overrides voter stickiness. */
  | { type: 'vote'; lastLogIndex: number; lastLogTerm: number; transfer: boolean }
  | { type: 'vote-resp'; granted: boolean }
  | { type: 'append'; prevIndex: number; prevTerm: number; entries: Entry[]; commit: number }
  /**
   * `success`: `matchIndex` is the follower's last index matching the leader.
   * On rejection, `hintIndex`/`hintTerm` let the leader skip a whole
   * conflicting term at once (fast back-off): the follower's last index
   * at or below `prevIndex` whose term is at most `prevTerm`, and that term.
   */
  | { type: 'append-resp'; success: boolean; matchIndex: number; hintIndex: number; hintTerm: number }
  /** A whole snapshot; the transport chunks it on a separate connection. */
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'snapshot-resp'; matchIndex: number }
  /** Leader heartbeat. `round` numbers heartbeat rounds for the leader lease and read-index. */
  | { type: 'heartbeat'; commit: number; round: number }
  | { type: 'heartbeat-resp'; round: number }
  /** Leadership transfer: campaign now, ignoring stickiness. */
  | { type: 'timeout-now' };

export type Message = MessageHeader & MessageBody;
export type MessageType = MessageBody['type'];

/** A read served by read-index: reply once the state machine has applied `index`. */
export interface ReadState {
  requestId: string;
  index: number;
}

/** A read-index request that could not be served (not leader, lost leadership). */
export interface ReadFailure {
  requestId: string;
  code: 'E_NOT_LEADER';
  leader: NodeId | null;
}

/**
 * Output of the core, collected since the last `advance()`. The caller's
 * duties, in this order:
 * 1. If `snapshot` is set: persist it durably (temp file, fsync, rename,
 *    fsync the directory), discard the whole stored log (entries after the
 *    snapshot's index too: a snapshot is installed only when the log lacks
 *    the snapshot's last entry, so later entries may conflict), and restore
 *    the state machine from it.
 * 2. If `entries` is non-empty: drop every stored entry with index >=
 *    entries[0].index, then append `entries`.
 * 3. If `hardState` is set: store it.
 * 4. fsync when `mustSync` is true. Only then:
 * 5. send `messages` (they may depend on 1-3: a vote, an append ack);
 * 6. apply `committed` to the state machine in order (they are durable on a
 *    quorum, so they may also be applied before 1-4), and serve `readStates`
 *    once the applied index reaches each one's index;
 * 7. call `advance(ready)`.
 * `messagesNow` depend on nothing in this Ready's persistence (heartbeats
 * and their replies when the term did not change): send them at once, so
 * lease traffic never waits for a disk write (safety rule 7).
 */
export interface Ready {
  snapshot: Snapshot | null;
  entries: Entry[];
  hardState: HardState | null;
  mustSync: boolean;
  messages: Message[];
  messagesNow: Message[];
  committed: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; code: 'E_NOT_LEADER'; leader: NodeId | null }
  | { ok: false; code: 'E_TRANSFERRING' | 'E_MEMBERSHIP_PENDING' | 'E_INVALID_MEMBERSHIP' | 'E_BUSY'; message: string };

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner';

/** A read-only view for status displays, tests and the simulator's checkers. */
export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  votedFor: NodeId | null;
  leader: NodeId | null;
  commitIndex: number;
  /** Highest index handed out in `committed` (the caller applies in order). */
  appliedIndex: number;
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  snapshotIndex: number;
  membership: Membership;
  /** Index of the config entry that `membership` came from (0 if from the snapshot/bootstrap). */
  membershipIndex: number;
  /** Leader only: per-peer replication progress. */
  progress: Record<NodeId, { match: number; next: number; snapshotPending: boolean }>;
  /** Leader only: local time until which its leader lease holds (-Infinity if none). */
  leaderLeaseUntil: number;
  /** True when the log was found corrupt at start: the node neither votes nor campaigns. */
  refusingVotes: boolean;
  /** Messages dropped since start: wrong cluster id, addressed to another node, unknown sender, stale incarnation. */
  dropped: { clusterId: number; recipient: number; sender: number; incarnation: number };
}

/** What a node restarts from: the store's recovered contents. */
export interface RestoredState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot (or from index 1), contiguous. */
  entries: Entry[];
  /**
   * The store found corruption inside acknowledged log (not a torn tail).
   * The node must not vote or campaign until repaired: it might have
   * promised something it no longer remembers.
   */
  logCorrupt: boolean;
}
