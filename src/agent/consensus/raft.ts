// One Raft node as a pure, deterministic state machine (model: etcd's
// RawNode). Inputs: tick(now), step(msg), propose(...), readIndex(...),
// transferLeadership(...), compact(...). Output: a Ready, whose duties the
// caller performs before advance(). See types.ts for the Ready contract and
// ARCHITECTURE.md "The safety rules" for stickiness and the leader lease.
//
// Restart: the caller restores its state machine from `restored.snapshot`
// before constructing the node; entries after the snapshot up to the
// commit index are handed out again in Ready.committed.
//
// Bootstrap: a fresh node (no snapshot, no entries, term 0) given a
// `bootstrap` membership writes it as a config entry at index 1 in term 1,
// and moves to term 1, so that the first election is for term 2. No leader
// ever exists in term 1, so every node bootstrapped with the same membership
// holds the same entry (1, 1) and the Log Matching property holds; the
// entry commits with the first leader's noop.

import type { RaftConfig } from './config.js';
import { HeartbeatRounds } from './heartbeat-rounds.js';
import { RaftLog } from './log.js';
import {
  applyMembershipChange,
  canCampaign,
  findMember,
  isReachableKind,
  quorumValue,
  sameMembership,
} from './membership.js';
import { Progress } from './progress.js';
import type {
  HardState,
  Membership,
  MembershipChange,
  Message,
  MessageBody,
  NodeId,
  ProposeResult,
  RaftStatus,
  ReadFailure,
  ReadState,
  Ready,
  RestoredState,
  Rng,
  Role,
  Snapshot,
} from './types.js';

/**
 * Test-only switches that re-introduce known Raft mistakes, so that the
 * simulator can prove it catches them. Never set in production.
 */
export interface PlantedBugs {
  /** Commit any entry replicated on a quorum, not only current-term ones (Raft paper, Figure 8). */
  commitOldTermEntries?: boolean;
  /** Send a vote grant in `messagesNow`, before the vote is fsynced. */
  replyBeforeVoteDurable?: boolean;
  /** Grant votes without the election restriction (candidate's log at least as up to date). */
  grantVoteWithoutUpToDateCheck?: boolean;
  /** Grant (pre-)votes even just after hearing from a leader or after start. */
  noVoterStickiness?: boolean;
}

export interface RaftNodeOptions {
  id: NodeId;
  clusterId: string;
  incarnation: string;
  config: RaftConfig;
  rng: Rng;
  /** Local monotonic ms at construction: starts the election timer and the start stickiness. */
  now: number;
  restored: RestoredState;
  bootstrap?: Membership;
  bugs?: PlantedBugs;
}

export class RaftNode {
  private readonly id: NodeId;
  private readonly clusterId: string;
  private readonly incarnation: string;
  private readonly cfg: RaftConfig;
  private readonly rng: Rng;
  private readonly bugs: PlantedBugs;
  private readonly refusingVotes: boolean;
  private readonly startedAt: number;
  private now: number;

  private readonly log: RaftLog;
  private term: number;
  private votedFor: NodeId | null;
  private commit: number;
  private applied: number;
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private membership: Membership;
  private membershipIndex: number;

  private electionDeadline = 0;
  /** Local ms when this node last accepted traffic from a leader, or stopped being one. */
  private heardLeaderAt = -Infinity;
  /** (Pre-)candidate: answers received, self included. */
  private votes = new Map<NodeId, boolean>();

  // Leader state; reset by becomeLeader().
  private progress = new Map<NodeId, Progress>();
  private rounds = new HeartbeatRounds();
  private nextHeartbeatAt = 0;
  private leaseUntil = -Infinity;
  /** Set when a transfer starts; the lease is not extended for the rest of this term. */
  private leaseStopped = false;
  /** Index of this leader's noop: once committed, the leader has committed in its term. */
  private termStartIndex = 0;
  private readsAwaitingCommit: string[] = [];
  private transfer: { to: NodeId; deadline: number } | null = null;
  /** New entries or commit to send; flushed by ready(), so proposals batch. */
  private broadcastPending = false;

  // Output collected for the next Ready.
  private messages: Message[] = [];
  private messagesNow: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private pendingSnapshot: Snapshot | null = null;
  /** The hard state last handed out in a Ready (or restored). */
  private offeredHardState: HardState;
  /** The term known fsynced: heartbeat traffic in a newer term waits for the fsync. */
  private durableTerm: number;
  private readonly dropped = { clusterId: 0, recipient: 0, sender: 0, incarnation: 0 };

  constructor(opts: RaftNodeOptions) {
    this.id = opts.id;
    this.clusterId = opts.clusterId;
    this.incarnation = opts.incarnation;
    this.cfg = opts.config;
    this.rng = opts.rng;
    this.bugs = opts.bugs ?? {};
    this.now = opts.now;
    this.startedAt = opts.now;
    const { hardState, snapshot, entries, logCorrupt } = opts.restored;
    this.refusingVotes = logCorrupt;
    this.log = new RaftLog(snapshot, entries);
    this.term = hardState.term;
    this.votedFor = hardState.votedFor;
    this.offeredHardState = { ...hardState };
    this.durableTerm = hardState.term;
    this.applied = this.log.snapshotIndex;
    this.commit = Math.min(Math.max(hardState.commit, this.log.snapshotIndex), this.log.lastIndex);
    const fresh = snapshot === null && entries.length === 0 && hardState.term === 0;
    if (opts.bootstrap && fresh) {
      this.term = 1;
      this.log.append({ term: 1, kind: 'config', data: JSON.stringify(opts.bootstrap) });
    }
    const current = this.log.membershipAt(this.log.lastIndex);
    this.membership = current.membership;
    this.membershipIndex = current.index;
    this.role = this.followerRole();
    this.resetElectionTimer();
  }

  // ---- Inputs --------------------------------------------------------------

  tick(now: number): void {
    this.observe(now);
    if (this.role === 'leader') {
      this.leaderTick();
    } else if (this.now >= this.electionDeadline) {
      if (this.mayCampaign()) this.becomePreCandidate();
      else this.resetElectionTimer();
    }
  }

  nextWakeAt(): number {
    if (this.role !== 'leader') return this.electionDeadline;
    let at = Math.min(this.nextHeartbeatAt, this.quorumHeardAt() + this.cfg.electionTimeoutMinMs);
    if (this.transfer) at = Math.min(at, this.transfer.deadline);
    return Math.max(at, this.now); // finite even when no quorum was ever heard
  }

  step(msg: Message, now: number): void {
    this.observe(now);
    if (!this.accepts(msg)) return;
    if (msg.term > this.term) {
      const futureTerm = msg.type === 'prevote' || (msg.type === 'prevote-resp' && msg.granted);
      if (msg.type === 'vote' && !msg.transfer && this.inStickiness()) return; // a disruptive candidate
      const leader = isLeaderTraffic(msg) || msg.type === 'timeout-now' ? msg.from : null;
      if (!futureTerm) this.becomeFollower(msg.term, leader);
    } else if (msg.term < this.term) {
      this.answerStale(msg);
      return;
    }
    switch (msg.type) {
      case 'prevote':
        return this.handlePreVote(msg);
      case 'vote':
        return this.handleVote(msg);
      case 'prevote-resp':
      case 'vote-resp':
        return this.handleVoteResponse(msg);
      case 'append':
        return this.handleAppend(msg);
      case 'heartbeat':
        return this.handleHeartbeat(msg);
      case 'snapshot':
        return this.handleSnapshot(msg);
      case 'timeout-now':
        return this.handleTimeoutNow(msg);
      case 'append-resp':
        return this.handleAppendResponse(msg);
      case 'heartbeat-resp':
        return this.handleHeartbeatResponse(msg);
      case 'snapshot-resp':
        return this.handleSnapshotResponse(msg);
    }
  }

  propose(data: string, now: number): ProposeResult {
    this.observe(now);
    const refused = this.refuseProposal();
    if (refused) return refused;
    const e = this.log.append({ term: this.term, kind: 'command', data });
    this.broadcastPending = true;
    return { ok: true, index: e.index, term: e.term };
  }

  proposeMembership(change: MembershipChange, now: number): ProposeResult {
    this.observe(now);
    const refused = this.refuseProposal();
    if (refused) return refused;
    if (this.membershipIndex > this.commit || this.commit < this.termStartIndex) {
      return {
        ok: false,
        code: 'E_MEMBERSHIP_PENDING',
        message:
          this.membershipIndex > this.commit
            ? `the membership change at index ${this.membershipIndex} is not committed yet`
            : 'the leader has not yet committed an entry of its term',
      };
    }
    const outcome = applyMembershipChange(this.membership, change);
    if (!outcome.ok) return { ok: false, code: 'E_INVALID_MEMBERSHIP', message: outcome.message };
    if (change.type === 'promote') {
      const behind = this.log.lastIndex - (this.progress.get(change.id)?.match ?? 0);
      if (behind > this.cfg.maxEntriesPerAppend) {
        return {
          ok: false,
          code: 'E_INVALID_MEMBERSHIP',
          message: `learner ${change.id} is ${behind} entries behind (at most ${this.cfg.maxEntriesPerAppend} to promote); retry when it has caught up`,
        };
      }
    }
    const e = this.log.append({ term: this.term, kind: 'config', data: JSON.stringify(outcome.membership) });
    this.setMembership(outcome.membership, e.index);
    this.broadcastPending = true;
    return { ok: true, index: e.index, term: e.term };
  }

  readIndex(requestId: string, now: number): void {
    this.observe(now);
    if (this.role !== 'leader') {
      this.readFailures.push({ requestId, code: 'E_NOT_LEADER', leader: this.leader });
    } else if (this.commit < this.termStartIndex) {
      this.readsAwaitingCommit.push(requestId);
    } else {
      this.startHeartbeatRound([requestId]);
    }
  }

  transferLeadership(to: NodeId, now: number): ProposeResult {
    this.observe(now);
    if (this.role !== 'leader') return { ok: false, code: 'E_NOT_LEADER', leader: this.leader };
    if (this.transfer) {
      if (this.transfer.to === to) return { ok: true, index: this.log.lastIndex, term: this.term };
      return { ok: false, code: 'E_TRANSFERRING', message: `a transfer to ${this.transfer.to} is in progress` };
    }
    if (to === this.id || !canCampaign(this.membership, to)) {
      return { ok: false, code: 'E_INVALID_MEMBERSHIP', message: `${to} is not another voter that can lead` };
    }
    // Stop the lease first (safety rule 3): the target's election bypasses
    // voter stickiness, so nothing may rely on this leader's lease any more.
    this.leaseStopped = true;
    this.leaseUntil = -Infinity;
    this.transfer = { to, deadline: this.now + this.cfg.transferTimeoutMs };
    // Catch the target up now rather than wait for a lost append's retry.
    const pr = this.progress.get(to);
    if (pr && pr.state === 'replicate' && pr.match < this.log.lastIndex) pr.becomeProbe(pr.match + 1, this.now);
    this.sendAppends(to);
    this.maybeSendTimeoutNow(to);
    return { ok: true, index: this.log.lastIndex, term: this.term };
  }

  compact(snapshot: Snapshot): void {
    const { index, term, membership } = snapshot.meta;
    if (index <= this.log.snapshotIndex) return;
    if (index > this.applied) throw new RangeError(`compact at ${index} beyond the applied index ${this.applied}`);
    if (this.log.term(index) !== term) throw new RangeError(`compact at ${index}: term ${term} differs from the log's`);
    if (!sameMembership(this.log.membershipAt(index).membership, membership)) {
      throw new RangeError(`compact at ${index}: membership differs from the one in effect there`);
    }
    this.log.compact(snapshot);
  }

  // ---- Output --------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.broadcastPending ||
      this.messages.length > 0 ||
      this.messagesNow.length > 0 ||
      this.log.unstableFrom <= this.log.lastIndex ||
      this.pendingSnapshot !== null ||
      this.hardStateChanged() ||
      this.commit > this.applied ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0
    );
  }

  ready(): Ready {
    if (this.broadcastPending) this.broadcastAppends();
    const snapshot = this.pendingSnapshot;
    const entries = this.log.takeUnstable();
    const termOrVoteChanged = this.term !== this.offeredHardState.term || this.votedFor !== this.offeredHardState.votedFor;
    const hardState = this.hardStateChanged() ? { term: this.term, votedFor: this.votedFor, commit: this.commit } : null;
    const committed = this.commit > this.applied ? this.log.slice(this.applied + 1, this.commit) : [];
    const rd: Ready = {
      snapshot,
      entries,
      hardState,
      mustSync: termOrVoteChanged || entries.length > 0 || snapshot !== null,
      messages: this.messages,
      messagesNow: this.messagesNow,
      committed,
      readStates: this.readStates,
      readFailures: this.readFailures,
    };
    this.pendingSnapshot = null;
    if (hardState) this.offeredHardState = { ...hardState };
    this.applied = committed.at(-1)?.index ?? this.applied;
    this.messages = [];
    this.messagesNow = [];
    this.readStates = [];
    this.readFailures = [];
    return rd;
  }

  /** The caller performed `rd`'s duties. Readies must be advanced in the order they were made. */
  advance(rd: Ready): void {
    if (rd.hardState && rd.mustSync) this.durableTerm = rd.hardState.term;
    if (rd.snapshot) this.log.markSnapshotPersisted(rd.snapshot.meta);
    const last = rd.entries.at(-1);
    if (last) this.log.markPersisted(last.index, last.term);
    // The leader's own entries count toward its match only now.
    this.maybeCommit();
  }

  status(): RaftStatus {
    const progress: RaftStatus['progress'] = {};
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) progress[id] = { match: pr.match, next: pr.next, snapshotPending: pr.snapshotPending };
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      votedFor: this.votedFor,
      leader: this.leader,
      commitIndex: this.commit,
      appliedIndex: this.applied,
      firstIndex: this.log.firstIndex,
      lastIndex: this.log.lastIndex,
      lastTerm: this.log.lastTerm,
      snapshotIndex: this.log.snapshotIndex,
      membership: this.membership,
      membershipIndex: this.membershipIndex,
      progress,
      leaderLeaseUntil: this.role === 'leader' && !this.leaseStopped ? this.leaseUntil : -Infinity,
      refusingVotes: this.refusingVotes,
      dropped: { ...this.dropped },
    };
  }

  // ---- Message admission ---------------------------------------------------

  /**
   * Drop (and count) messages for another cluster or node, or from a member
   * whose recorded incarnation differs (a re-imaged node). From senders
   * outside our membership only requests are admitted, as Raft requires
   * (dissertation §4.1): leader traffic (append, heartbeat, snapshot) and
   * (pre-)vote requests. A node whose configuration is stale (say, restored
   * from a snapshot older than the entry that added the sender) must still
   * learn from a new leader and vote for a new member, or the cluster can
   * deadlock; a fresh node that knows no one yet must accept its first
   * leader. Answers and timeout-now from outsiders are dropped: they only
   * ever count when the sender is a member. A removed node's campaigns are
   * contained by pre-vote, stickiness, and its log lacking its removal.
   */
  private accepts(msg: Message): boolean {
    if (msg.clusterId !== this.clusterId) {
      this.dropped.clusterId++;
      return false;
    }
    if (msg.to !== this.id) {
      this.dropped.recipient++;
      return false;
    }
    const sender = findMember(this.membership, msg.from);
    if (!sender) {
      if (isLeaderTraffic(msg) || msg.type === 'prevote' || msg.type === 'vote') return true;
      this.dropped.sender++;
      return false;
    }
    if (sender.incarnation !== msg.fromIncarnation) {
      this.dropped.incarnation++;
      return false;
    }
    return true;
  }

  /** A message from an older term: tell its sender our term if it might be a stale leader or candidate. */
  private answerStale(msg: Message): void {
    switch (msg.type) {
      case 'append':
        return this.send(msg.from, { type: 'append-resp', success: false, matchIndex: 0, hintIndex: 0, hintTerm: 0 });
      case 'heartbeat':
        return this.send(msg.from, { type: 'heartbeat-resp', round: msg.round });
      case 'snapshot':
        return this.send(msg.from, { type: 'snapshot-resp', matchIndex: 0 });
      case 'prevote':
        return this.send(msg.from, { type: 'prevote-resp', granted: false });
      case 'vote':
        return this.send(msg.from, { type: 'vote-resp', granted: false });
      default:
        return;
    }
  }

  // ---- Elections -----------------------------------------------------------

  /** Voter stickiness (safety rule 3): no (pre-)vote for E_min after hearing a leader or after start. */
  private inStickiness(): boolean {
    if (this.bugs.noVoterStickiness) return false;
    const eMin = this.cfg.electionTimeoutMinMs;
    return this.role === 'leader' || this.now < this.heardLeaderAt + eMin || this.now < this.startedAt + eMin;
  }

  private candidateLogOk(msg: { lastLogIndex: number; lastLogTerm: number }): boolean {
    return this.bugs.grantVoteWithoutUpToDateCheck || this.log.isUpToDate(msg.lastLogIndex, msg.lastLogTerm);
  }

  /**
   * A reachable voter of its latest configuration may campaign; so may a
   * voter whose removal is appended but not yet committed: it may lead the
   * new configuration (votes and quorums from that one, itself not counted)
   * until the removal commits (Raft dissertation §4.2.2). Without that, a
   * removed leader that holds the longest log deadlocks a two-node cluster:
   * it will not campaign, and it refuses the other node's votes.
   */
  private mayCampaign(): boolean {
    if (this.refusingVotes) return false;
    if (canCampaign(this.membership, this.id)) return true;
    const removalPending = this.membershipIndex > this.commit;
    return removalPending && canCampaign(this.log.membershipAt(this.membershipIndex - 1).membership, this.id);
  }

  private handlePreVote(msg: Message & { type: 'prevote' }): void {
    const granted = msg.term > this.term && !this.refusingVotes && !this.inStickiness() && this.candidateLogOk(msg);
    this.send(msg.from, { type: 'prevote-resp', granted }, granted ? msg.term : this.term);
  }

  private handleVote(msg: Message & { type: 'vote' }): void {
    const free = this.votedFor === msg.from || (this.votedFor === null && this.leader === null);
    const granted =
      free && !this.refusingVotes && (msg.transfer || !this.inStickiness()) && this.candidateLogOk(msg);
    if (granted) {
      this.votedFor = msg.from;
      this.resetElectionTimer();
    }
    // The grant depends on the vote being durable: it waits for the fsync.
    const early = granted && this.bugs.replyBeforeVoteDurable;
    this.send(msg.from, { type: 'vote-resp', granted }, this.term, early);
  }

  private handleVoteResponse(msg: Message & { type: 'prevote-resp' | 'vote-resp' }): void {
    const current =
      (msg.type === 'prevote-resp' && this.role === 'pre-candidate' && msg.term === this.term + 1) ||
      (msg.type === 'vote-resp' && this.role === 'candidate' && msg.term === this.term);
    if (!current) return;
    this.votes.set(msg.from, msg.granted);
    if (!this.hasVoteQuorum()) return;
    if (this.role === 'pre-candidate') this.becomeCandidate(false);
    else this.becomeLeader();
  }

  private hasVoteQuorum(): boolean {
    return quorumValue(this.membership, (id) => (this.votes.get(id) ? 1 : 0)) === 1;
  }

  private handleTimeoutNow(msg: Message): void {
    if (this.role === 'leader' || this.leader !== msg.from || !this.mayCampaign()) return;
    this.becomeCandidate(true);
  }

  private becomePreCandidate(): void {
    this.role = 'pre-candidate';
    this.leader = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    const body: MessageBody = { type: 'prevote', lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm };
    for (const id of this.reachableVoters()) this.send(id, body, this.term + 1);
    if (this.hasVoteQuorum()) this.becomeCandidate(false);
  }

  /** `transfer`: campaigning on a leader's timeout-now; voters skip stickiness. */
  private becomeCandidate(transfer: boolean): void {
    this.term += 1;
    this.votedFor = this.id;
    this.role = 'candidate';
    this.leader = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    const body: MessageBody = { type: 'vote', lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm, transfer };
    for (const id of this.reachableVoters()) this.send(id, body);
    if (this.hasVoteQuorum()) this.becomeLeader();
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (this.role === 'leader') this.endLeadership(leader);
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.role = this.followerRole();
    this.leader = leader;
    this.votes.clear();
    this.resetElectionTimer();
  }

  private followerRole(): Role {
    return findMember(this.membership, this.id)?.role === 'learner' ? 'learner' : 'follower';
  }

  private resetElectionTimer(): void {
    const eMin = this.cfg.electionTimeoutMinMs;
    this.electionDeadline = this.now + eMin + Math.floor(this.rng.next() * eMin);
  }

  // ---- Follower side of replication ----------------------------------------

  /** Accept `from` as this term's leader: refresh the timer and the stickiness window. */
  private followLeader(from: NodeId): boolean {
    if (this.role === 'leader') return false; // one leader per term: cannot happen
    if (this.leader !== from || this.role === 'pre-candidate' || this.role === 'candidate') {
      this.becomeFollower(this.term, from);
    }
    this.heardLeaderAt = this.now;
    this.resetElectionTimer();
    return true;
  }

  private handleAppend(msg: Message & { type: 'append' }): void {
    if (!this.followLeader(msg.from)) return;
    if (msg.prevIndex >= this.commit && !this.log.matchTerm(msg.prevIndex, msg.prevTerm)) {
      const hintIndex = this.log.findConflictByTerm(msg.prevIndex, msg.prevTerm);
      const hintTerm = this.log.term(hintIndex) ?? 0;
      this.send(msg.from, { type: 'append-resp', success: false, matchIndex: 0, hintIndex, hintTerm });
      return;
    }
    // Entries at or below the commit index are in every later leader's log,
    // so they match ours and are skipped, as are those already present.
    const truncatedAt = this.log.appendFromLeader(msg.entries);
    if (truncatedAt !== null && truncatedAt <= this.commit) {
      throw new Error(`safety violation: leader ${msg.from} overwrote committed entry ${truncatedAt}`);
    }
    if (truncatedAt !== null || msg.entries.some((e) => e.kind === 'config')) {
      const current = this.log.membershipAt(this.log.lastIndex);
      this.setMembership(current.membership, current.index);
    }
    const lastNew = msg.prevIndex + msg.entries.length;
    this.commit = Math.max(this.commit, Math.min(msg.commit, lastNew));
    const matchIndex = Math.max(lastNew, this.commit);
    this.send(msg.from, { type: 'append-resp', success: true, matchIndex, hintIndex: 0, hintTerm: 0 });
  }

  private handleHeartbeat(msg: Message & { type: 'heartbeat' }): void {
    if (!this.followLeader(msg.from)) return;
    // The leader sends min(our match, its commit): our log matches up to there.
    this.commit = Math.max(this.commit, Math.min(msg.commit, this.log.lastIndex));
    this.send(msg.from, { type: 'heartbeat-resp', round: msg.round });
  }

  private handleSnapshot(msg: Message & { type: 'snapshot' }): void {
    if (!this.followLeader(msg.from)) return;
    const { meta } = msg.snapshot;
    if (meta.index <= this.commit) {
      this.send(msg.from, { type: 'snapshot-resp', matchIndex: this.commit });
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // Our log already holds the snapshot's last entry: it is committed.
      this.commit = meta.index;
    } else {
      this.log.restore(msg.snapshot);
      this.pendingSnapshot = msg.snapshot;
      this.commit = meta.index;
      this.applied = meta.index;
      this.setMembership(meta.membership, 0);
    }
    this.send(msg.from, { type: 'snapshot-resp', matchIndex: meta.index });
  }

  // ---- Leader --------------------------------------------------------------

  private refuseProposal(): ProposeResult | null {
    if (this.role !== 'leader') return { ok: false, code: 'E_NOT_LEADER', leader: this.leader };
    if (this.transfer) {
      return { ok: false, code: 'E_TRANSFERRING', message: `leadership is being transferred to ${this.transfer.to}` };
    }
    const uncommitted = this.log.lastIndex - this.commit;
    if (uncommitted >= this.cfg.maxUncommittedEntries) {
      return { ok: false, code: 'E_BUSY', message: `${uncommitted} entries await commit (limit ${this.cfg.maxUncommittedEntries})` };
    }
    return null;
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leader = this.id;
    this.votes.clear();
    this.transfer = null;
    this.leaseUntil = -Infinity;
    this.leaseStopped = false;
    this.rounds = new HeartbeatRounds();
    this.progress = new Map();
    for (const id of this.reachablePeers()) this.progress.set(id, new Progress(this.log.lastIndex + 1, this.now));
    this.termStartIndex = this.log.append({ term: this.term, kind: 'noop', data: '' }).index;
    this.broadcastPending = true;
    this.startHeartbeatRound([]);
  }

  /** Leave leadership: no lease, no transfer, pending reads fail. */
  private endLeadership(newLeader: NodeId | null): void {
    this.heardLeaderAt = this.now; // this node's own lease quorum counted it: stay sticky
    this.leaseUntil = -Infinity;
    this.transfer = null;
    this.broadcastPending = false;
    const failed = [...this.readsAwaitingCommit, ...this.rounds.pendingReads()];
    for (const requestId of failed) this.readFailures.push({ requestId, code: 'E_NOT_LEADER', leader: newLeader });
    this.readsAwaitingCommit = [];
    this.rounds = new HeartbeatRounds();
    this.progress = new Map();
  }

  private leaderTick(): void {
    const eMin = this.cfg.electionTimeoutMinMs;
    if (this.transfer && this.now >= this.transfer.deadline) this.transfer = null; // the lease stays stopped
    // The same expression as nextWakeAt(): `now - heard >= eMin` can be false in floating point at the
    // very instant nextWakeAt() named, and the shell would spin on zero-delay timers (sim seed 196).
    if (this.now >= this.quorumHeardAt() + eMin) {
      this.becomeFollower(this.term, null); // check-quorum: a voter quorum has been silent
      return;
    }
    if (this.now < this.nextHeartbeatAt) return;
    this.startHeartbeatRound([]);
    for (const [id, pr] of this.progress) {
      const snapshotLost = pr.state === 'snapshot' && this.now - pr.snapshotSentAt >= eMin;
      const stalled = pr.state === 'replicate' && pr.match < this.log.lastIndex && this.now - pr.progressAt >= eMin;
      if (snapshotLost || stalled) {
        pr.becomeProbe(pr.match + 1, this.now);
        this.sendAppends(id);
      }
    }
  }

  /** Local ms by which a voter quorum (this node counting as now) was last heard from. */
  private quorumHeardAt(): number {
    return quorumValue(this.membership, (id) => (id === this.id ? this.now : this.progress.get(id)?.lastHeardAt));
  }

  /** Send a numbered heartbeat to every peer; `reads` are confirmed by this round. */
  private startHeartbeatRound(reads: string[]): void {
    const round = this.rounds.start(
      this.now,
      reads.map((requestId) => ({ requestId, index: this.commit })),
    );
    this.nextHeartbeatAt = this.now + this.cfg.heartbeatIntervalMs;
    for (const [id, pr] of this.progress) {
      this.send(id, { type: 'heartbeat', commit: Math.min(pr.match, this.commit), round });
    }
    this.updateConfirmedRound();
  }

  private updateConfirmedRound(): void {
    const round = quorumValue(this.membership, (id) =>
      id === this.id ? this.rounds.current : this.progress.get(id)?.ackedRound,
    );
    const confirmed = this.rounds.confirm(round);
    if (!confirmed) return;
    if (!this.leaseStopped) this.leaseUntil = Math.max(this.leaseUntil, confirmed.sentAt + this.cfg.leaderLeaseMs);
    this.readStates.push(...confirmed.reads);
  }

  private broadcastAppends(): void {
    this.broadcastPending = false;
    for (const id of this.progress.keys()) this.sendAppends(id);
  }

  /** Send `id` what it lacks, as far as flow control allows; a bare append if only the commit moved. */
  private sendAppends(id: NodeId): void {
    const pr = this.progress.get(id);
    if (!pr) return;
    let bare = pr.sentCommit < this.commit;
    while (!pr.isPaused(this.cfg.maxInflightAppends)) {
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.term(prevIndex);
      const snapshot = this.log.snapshot;
      if (prevTerm === undefined && snapshot) {
        this.send(id, { type: 'snapshot', snapshot });
        pr.becomeSnapshot(snapshot.meta.index, this.now);
        return;
      }
      const entries = this.log.slice(pr.next, this.log.lastIndex, this.cfg.maxEntriesPerAppend, this.cfg.maxBytesPerAppend);
      if (entries.length === 0 && !bare) return;
      this.send(id, { type: 'append', prevIndex, prevTerm: prevTerm ?? 0, entries, commit: this.commit });
      pr.sentCommit = this.commit;
      pr.sentAppend(entries.at(-1)?.index ?? null, this.now);
      bare = false;
      if (entries.length === 0) return;
    }
  }

  private handleAppendResponse(msg: Message & { type: 'append-resp' }): void {
    const pr = this.progress.get(msg.from);
    if (this.role !== 'leader' || !pr) return;
    pr.lastHeardAt = this.now; // check-quorum
    if (msg.success) {
      pr.acknowledge(msg.matchIndex, this.now);
      if (pr.state === 'probe') pr.becomeReplicate();
      this.maybeCommit();
    } else {
      // A rejection below the known match is a stale answer to an old append.
      if (msg.hintIndex < pr.match || pr.state === 'snapshot') return;
      const next =
        msg.hintIndex < this.log.snapshotIndex
          ? msg.hintIndex + 1
          : this.log.findConflictByTerm(msg.hintIndex, msg.hintTerm) + 1;
      // An answer to the append now out always moves `next` back; others are stale.
      if (next >= pr.next) return;
      pr.becomeProbe(next, this.now);
    }
    this.sendAppends(msg.from);
    this.maybeSendTimeoutNow(msg.from);
  }

  private handleHeartbeatResponse(msg: Message & { type: 'heartbeat-resp' }): void {
    const pr = this.progress.get(msg.from);
    if (this.role !== 'leader' || !pr) return;
    pr.lastHeardAt = this.now; // check-quorum
    pr.ackedRound = Math.max(pr.ackedRound, msg.round);
    this.updateConfirmedRound();
    if (pr.state === 'probe' && pr.match < this.log.lastIndex) {
      pr.probeSent = false; // the link works: the probe was lost
      this.sendAppends(msg.from);
    }
    this.maybeSendTimeoutNow(msg.from);
  }

  private handleSnapshotResponse(msg: Message & { type: 'snapshot-resp' }): void {
    const pr = this.progress.get(msg.from);
    if (this.role !== 'leader' || !pr) return;
    pr.lastHeardAt = this.now; // check-quorum
    pr.acknowledge(msg.matchIndex, this.now);
    if (pr.state === 'snapshot') pr.becomeProbe(pr.match + 1, this.now);
    this.maybeCommit();
    this.sendAppends(msg.from);
  }

  private maybeSendTimeoutNow(id: NodeId): void {
    if (this.transfer?.to !== id || this.progress.get(id)?.match !== this.log.lastIndex) return;
    this.send(id, { type: 'timeout-now' });
  }

  /** Commit the highest index a voter quorum stores, if it is of this term (Raft §5.4.2). */
  private maybeCommit(): void {
    if (this.role !== 'leader') return;
    const n = quorumValue(this.membership, (id) => (id === this.id ? this.log.persistedIndex : this.progress.get(id)?.match));
    if (n <= this.commit || !(this.bugs.commitOldTermEntries || this.log.term(n) === this.term)) return;
    this.commit = n;
    this.broadcastPending = true;
    if (this.readsAwaitingCommit.length > 0 && this.commit >= this.termStartIndex) {
      const reads = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      this.startHeartbeatRound(reads);
    }
    // A leader removed from the configuration hands over once its removal commits.
    if (!findMember(this.membership, this.id) && this.membershipIndex <= this.commit) {
      this.becomeFollower(this.term, null);
    }
  }

  // ---- Helpers -------------------------------------------------------------

  private setMembership(membership: Membership, index: number): void {
    this.membership = membership;
    this.membershipIndex = index;
    if (this.role === 'follower' || this.role === 'learner') this.role = this.followerRole();
    if (this.role !== 'leader') return;
    const peers = new Set(this.reachablePeers());
    for (const id of this.progress.keys()) if (!peers.has(id)) this.progress.delete(id);
    for (const id of peers) if (!this.progress.has(id)) this.progress.set(id, new Progress(this.log.lastIndex, this.now));
    this.maybeCommit();
    this.updateConfirmedRound();
  }

  /** Every member but this node and metadata witnesses (which have no network presence yet). */
  private reachablePeers(): NodeId[] {
    return this.membership.members.filter((m) => m.id !== this.id && isReachableKind(m)).map((m) => m.id);
  }

  private reachableVoters(): NodeId[] {
    return this.membership.members
      .filter((m) => m.id !== this.id && m.role === 'voter' && isReachableKind(m))
      .map((m) => m.id);
  }

  private hardStateChanged(): boolean {
    const o = this.offeredHardState;
    return o.term !== this.term || o.votedFor !== this.votedFor || o.commit !== this.commit;
  }

  private observe(now: number): void {
    this.now = Math.max(this.now, now);
  }

  /**
   * Queue a message. Heartbeats and their answers go out at once unless the
   * term they carry is not yet durable; everything else waits for the fsync.
   */
  private send(to: NodeId, body: MessageBody, term = this.term, early = false): void {
    const msg = { clusterId: this.clusterId, from: this.id, to, term, fromIncarnation: this.incarnation, ...body } as Message;
    const lease = (body.type === 'heartbeat' || body.type === 'heartbeat-resp') && this.term === this.durableTerm;
    (early || lease ? this.messagesNow : this.messages).push(msg);
  }
}

function isLeaderTraffic(msg: Message): boolean {
  return msg.type === 'append' || msg.type === 'heartbeat' || msg.type === 'snapshot';
}
