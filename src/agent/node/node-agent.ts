// One node agent: identity and state directory, the SSH transport, the
// consensus runtime over the durable log with the cluster database as its
// state machine, node leases, the liveness view and the local API. The
// agent decides nothing itself: the consensus core, the database and the
// lease machinery do; this class wires them to real time, files and sockets.
//
// State directory (0700):
//   agent.lock        pid + start time of the agent using it
//   identity.json     node id, name, incarnation      (identity.ts)
//   node_key(.pub)    ed25519 host and client key
//   cluster.json      the cluster this node is in     (cluster-file.ts)
//   raft/             the consensus log and snapshots (cluster-session.ts)
//   authorized_keys   admin keys allowed before the cluster lists any
//   agent.sock        the local API socket (default place)
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Membership, RaftStatus } from '../consensus/types.js';
import type { OwnerOrder, ResourceReport } from '../core/controller-io.js';
import type { LeaseTiming } from '../core/lease-config.js';
import type { Placement } from '../core/lease-granter.js';
import { LivenessView } from '../core/membership.js';
import type { ApplyResult } from '../db/database.js';
import { ClusterDatabase } from '../db/database.js';
import { encodeCommand } from '../db/commands.js';
import type { ClusterCommand } from '../db/commands.js';
import { parseAddress } from '../db/names.js';
import { watchdogTimeoutProblems } from '../guard/watchdog.js';
import { SshTransport } from '../transport/transport.js';
import type { PeerAddress } from '../transport/transport.js';
import { AgentError, refusedByReports } from './agent-error.js';
import { AdminKeys, AUTHORIZED_KEYS_FILE } from './admin-keys.js';
import { AgentApi } from './agent-api.js';
import { ApiSocketServer } from './api-server.js';
import type { Caller } from './api-server.js';
import { closeSession, openSession, RAFT_DIR } from './cluster-session.js';
import type { ClusterSession } from './cluster-session.js';
import { loadClusterRecord, removeClusterRecord, saveClusterRecord } from './cluster-file.js';
import type { ClusterRecord, JoinMember } from './cluster-file.js';
import { handleExec } from './exec.js';
import { GroupLeader } from './group-leader.js';
import { GroupRunner } from './group-runner.js';
import type { GuardWatchdog } from './guard-supervisor.js';
import { LeadershipHandover } from './handover.js';
import { HeartbeatGapMonitor } from './heartbeat-gaps.js';
import { loadOrCreateIdentity, renewIncarnation } from './identity.js';
import type { NodeIdentity } from './identity.js';
import type { Logger } from './logger.js';
import { LoopDelayMonitor } from './loop-delay.js';
import { NodeLeases } from './node-leases.js';
import { PeerApi } from './peer-api.js';
import { PeerChannels } from './peer-channels.js';
import type { ChannelEndpoint } from './peer-channels.js';
import { PeerRoster } from './peer-roster.js';
import { isObject, makePrivateDirectory } from './state-files.js';
import { StateDirLock } from './state-lock.js';
import { timingFrom } from './timing.js';

/** How long SIGTERM waits for this node's groups to move to other nodes, ms. */
const DRAIN_TIMEOUT_MS = 15_000;

/** The agent's SSH port when --listen names none; the CLI dials the same by default. */
export const DEFAULT_AGENT_PORT = 7422;

const LOUD_PROBLEMS: readonly string[] = ['E_UNKNOWN_KEY', 'E_BAD_SIGNATURE', 'E_HOST_KEY_MISMATCH', 'E_AUTH_REFUSED'];


export interface HostPort {
  host: string;
  port: number;
}

export interface NodeAgentOptions {
  stateDir: string;
  /** Where the SSH server listens; port 0 picks a free one. */
  listen: HostPort;
  /** The address others dial (registered in the cluster); default: the listen address, or this host's name when listening on all. */
  advertise?: HostPort;
  /** Local address for outgoing connections to peers. */
  sourceAddress?: string;
  /** The node's name on first start (default: the host name). */
  name?: string;
  /** The local API socket (default: <state-dir>/agent.sock). */
  socketPath?: string;
  /** Fencing = watchdog (rule 6): the lease guard feeds this device. */
  watchdog?: GuardWatchdog;
  log: Logger;
  version: string;
  /** The agent cannot go on (a failed fsync): the caller should exit so that it restarts from its files. */
  onFatal?: (err: Error) => void;
}

const now = (): number => performance.now();

export class NodeAgent {
  identity: NodeIdentity;
  session: ClusterSession | null = null;
  liveness: LivenessView;
  readonly leases: NodeLeases;
  /** This node's groups: the lease guard, the resource monitors and the node controller. */
  readonly groups: GroupRunner;
  /** The leader's placement loop (acts only while this node leads). */
  readonly groupLeader: GroupLeader;
  private readonly groupsEndpoint: ChannelEndpoint;
  readonly peerApi: PeerApi;
  readonly api: AgentApi;
  readonly handover: LeadershipHandover;
  readonly startedAt = now();
  readonly loopDelay = new LoopDelayMonitor();
  /** Per cluster session: a gap across a leave and a join is no gap. */
  heartbeatGaps = new HeartbeatGapMonitor(now());
  /** `host:port` others dial. */
  address = '';
  private readonly transport: SshTransport;
  private readonly channels: PeerChannels;
  private readonly roster: PeerRoster;
  private readonly adminKeys: AdminKeys;
  private apiServer: ApiSocketServer | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private peersRefreshQueued = false;
  private selfAdd: Promise<void> | null = null;
  /** role/term/leader last logged. */
  private lastRole = '';
  private stopping: Promise<void> | null = null;
  /** Set once stop() is past the leadership hand-over: waits give up. */
  private closing = false;
  private readonly lock: StateDirLock;
  /** The watchdog timing problems last logged ('' when none). */
  private watchdogWarned = '';

  private constructor(readonly options: NodeAgentOptions, identity: NodeIdentity, lock: StateDirLock, transport: SshTransport, adminKeys: AdminKeys) {
    this.identity = identity;
    this.lock = lock;
    this.transport = transport;
    this.adminKeys = adminKeys;
    this.channels = new PeerChannels(transport);
    this.roster = new PeerRoster(transport, this.log);
    this.liveness = new LivenessView();
    this.channels.onHeard((from) => this.liveness.observe(from, now()));
    this.api = new AgentApi(this);
    this.handover = new LeadershipHandover(this);
    this.peerApi = new PeerApi(this.channels.endpoint('api'), (method, params, caller) => this.api.serveForwarded(method, params, caller), this.log);
    this.leases = new NodeLeases({
      nodeId: identity.nodeId,
      timing: timingFrom(new ClusterDatabase().getProperties()).lease,
      endpoint: this.channels.endpoint('lease'),
      raftStatus: () => this.raftStatus(),
      placements: () => this.placements(),
      isClusterNode: (id) => this.db()?.getNode(id) !== undefined,
      log: this.log,
      onChange: (change) => this.groups.onLease(change),
    });
    this.groups = new GroupRunner({
      nodeId: identity.nodeId,
      stateDir: options.stateDir,
      timing: timingFrom(new ClusterDatabase().getProperties()).lease,
      log: this.log,
      holderLease: () => this.leases.holderLease(),
      confirmStopped: (pair) => this.leases.confirmStopped(pair),
      db: () => this.db(),
      report: (cmd) => this.sendReport(cmd),
    });
    this.groups.guard.watchdog = options.watchdog ?? null;
    this.groupLeader = new GroupLeader({
      nodeId: identity.nodeId,
      log: this.log,
      leader: () => this.leases.leaderController(),
      db: () => this.db(),
      liveness: () => this.liveness,
      propose: (cmd, actor) => this.propose(cmd, { actor, role: 'admin' }),
      sendOrder: (node, order) => this.sendOrder(node, order),
    });
    this.groupsEndpoint = this.channels.endpoint('groups');
    this.groupsEndpoint.onMessage((m, from) => this.receiveGroupMessage(m, from));
    this.loopDelay.start();
  }

  get log(): Logger {
    return this.options.log;
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  get socketPath(): string {
    return this.options.socketPath ?? join(this.stateDir, 'agent.sock');
  }

  /** Takes the state directory, loads or makes the identity, listens, and resumes the cluster this node is in. */
  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const log = options.log;
    await makePrivateDirectory(options.stateDir);
    const lock = await StateDirLock.acquire(options.stateDir);
    let agent: NodeAgent | null = null;
    try {
      const { identity, created } = await loadOrCreateIdentity(options.stateDir, options.name);
      log.setNode(identity.name);
      if (options.name !== undefined && options.name !== identity.name) {
        log.warn('--name differs from the name this node was made with; keeping the stored name', { stored: identity.name, given: options.name });
      }
      log.info(created ? 'new node identity made' : 'node identity loaded', { nodeId: identity.nodeId, fingerprint: identity.keys.fingerprint });
      const record = await loadClusterRecord(options.stateDir);
      let self: NodeAgent | null = null;
      const adminKeys = new AdminKeys(() => self?.db()?.listAdminKeys() ?? []);
      await adminKeys.loadFile(join(options.stateDir, AUTHORIZED_KEYS_FILE), log);
      const transport = await SshTransport.start({
        nodeId: identity.nodeId,
        listenHost: options.listen.host,
        listenPort: options.listen.port,
        ...(options.sourceAddress ? { sourceAddress: options.sourceAddress } : {}),
        hostPrivateKey: identity.keys.privateKey,
        clientPrivateKey: identity.keys.privateKey,
        peers: [],
        authorizeOther: (key) => adminKeys.lookup(key),
        onExec: (who, command, channel) => {
          if (self) handleExec(self, who, command, channel);
          else channel.close();
        },
        // Refused logins and a changed host key are news (like sshd's); link churn is not.
        onProblem: (problem) => (LOUD_PROBLEMS.includes(problem.code) ? log.warn : log.debug).call(log, `transport: ${problem.code}`, { ...problem }),
        onLinkChange: (peer, lane, up) => log.info(up ? 'peer link up' : 'peer link down', { peer, lane }),
      });
      agent = new NodeAgent(options, identity, lock, transport, adminKeys);
      self = agent;
      agent.address = formatHostPort(options.advertise ?? { host: advertisedHost(options.listen.host), port: transport.port });
      // The guard before the monitor and before any lease (guard/README.md); without it no group starts here.
      await agent.groups.start().catch((err: unknown) => log.error('the lease guard did not start: no group will run on this node', { err }));
      log.info('listening', { listen: formatHostPort({ host: options.listen.host, port: transport.port }), advertise: agent.address });
      if (record) await agent.startSession(record);
      const watchdogProblems = agent.watchdogProblems(timingFrom(agent.db()?.getProperties() ?? new ClusterDatabase().getProperties()).lease);
      if (watchdogProblems.length > 0) {
        throw new AgentError('E_INVALID', `--watchdog: ${watchdogProblems.join('; ')}`, 'give a shorter --watchdog-timeout-ms, or make the node lease longer (fcm config set nodeLease=...)');
      }
      agent.apiServer = await ApiSocketServer.listen(agent.socketPath, localCaller(), (m, p, c) => agent!.api.dispatch(m, p, c), log);
      agent.startTicker();
      log.info('agent ready', { socket: agent.socketPath, cluster: record?.clusterName ?? null });
      return agent;
    } catch (err) {
      if (agent) await agent.stop({ transferLeadership: false });
      else await lock.release();
      throw err;
    }
  }

  // ---- Views the API reads ---------------------------------------------

  db(): ClusterDatabase | null {
    return this.session?.machine.db ?? null;
  }

  raftStatus(): RaftStatus | null {
    return this.session?.runtime.status() ?? null;
  }

  requireSession(): ClusterSession {
    if (!this.session) throw new AgentError('E_NO_CLUSTER', 'this node is in no cluster', 'create one with `fcm cluster create`, or add this node to a cluster with `fcm node add`');
    return this.session;
  }

  /** SIGHUP: re-read `authorized_keys` (admin keys allowed before the cluster database lists any). */
  reloadAuthorizedKeys(): Promise<void> {
    return this.adminKeys.loadFile(join(this.stateDir, AUTHORIZED_KEYS_FILE), this.log);
  }

  linkStats(): ReturnType<SshTransport['stats']> {
    return this.transport.stats();
  }

  // ---- Cluster lifecycle -------------------------------------------------

  /** A one-voter cluster led by this node; resolves once it leads and lists itself. */
  async createCluster(name: string, caller: Caller, timeoutMs: number): Promise<void> {
    if (this.session) throw alreadyInCluster(this.session.record);
    const bootstrap: Membership = { members: [{ id: this.identity.nodeId, incarnation: this.identity.incarnation, kind: 'node', role: 'voter' }] };
    const record: ClusterRecord = { clusterId: randomUUID(), clusterName: name, since: new Date().toISOString(), bootstrap, joinMembers: [] };
    await rm(join(this.stateDir, RAFT_DIR), { recursive: true, force: true });
    await saveClusterRecord(this.stateDir, record);
    await this.startSession(record);
    this.log.info('cluster created', { clusterId: record.clusterId, cluster: name });
    await this.waitFor('this node to lead the new cluster', timeoutMs, () => this.raftStatus()?.role === 'leader');
    await this.ensureListed(caller);
  }

  /** Trusts `members` and waits, with an empty log, for the leader to add this node. */
  async joinCluster(clusterId: string, clusterName: string, members: JoinMember[]): Promise<void> {
    if (this.session) {
      if (this.session.record.clusterId === clusterId) return;
      throw alreadyInCluster(this.session.record);
    }
    const record: ClusterRecord = { clusterId, clusterName, since: new Date().toISOString(), bootstrap: null, joinMembers: members };
    await rm(join(this.stateDir, RAFT_DIR), { recursive: true, force: true });
    await saveClusterRecord(this.stateDir, record);
    await this.startSession(record);
    this.log.info('joining cluster', { clusterId, cluster: clusterName, members: members.map((m) => m.name) });
  }

  /** Stops taking part, wipes the cluster state and takes a new incarnation; the identity and key stay. */
  async leaveCluster(): Promise<void> {
    const session = this.requireSession();
    await this.stopSession();
    await removeClusterRecord(this.stateDir);
    await rm(join(this.stateDir, RAFT_DIR), { recursive: true, force: true });
    this.identity = await renewIncarnation(this.stateDir, this.identity);
    this.refreshPeers();
    this.log.warn('left the cluster; its state here is wiped', { clusterId: session.record.clusterId });
  }

  /** Proposes a database command as `caller` (leader only); refuses with the database's reports, before or after commit. */
  async propose(cmd: ClusterCommand, caller: Caller, force = false): Promise<ApplyResult> {
    const session = this.requireSession();
    const envelope = { cmd, actor: caller.actor, at: Date.now(), requestId: randomUUID(), ...(force ? { force } : {}) };
    const reports = session.machine.db.validate(envelope);
    if (reports.some((r) => r.severity === 'error')) throw refusedByReports(reports, cmd.type);
    const result = await session.runtime.propose(encodeCommand(envelope)) as ApplyResult;
    if (result.result === 'rejected') throw refusedByReports(result.reports, cmd.type);
    return result;
  }

  /** Polls `done` every 20 ms; E_TIMEOUT after `timeoutMs`, E_STOPPED once the agent stops. */
  async waitFor(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
    const deadline = now() + timeoutMs;
    while (!done()) {
      if (this.closing) throw new AgentError('E_STOPPED', `the agent is stopping; gave up waiting for ${what}`);
      if (now() >= deadline) throw new AgentError('E_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * SIGTERM: hand leadership to an up-to-date voter first (bounded), then stop
   * the runtime, close the store and the transport, remove the socket and the lock.
   */
  stop(options: { transferLeadership: boolean } = { transferLeadership: true }): Promise<void> {
    this.stopping ??= (async () => {
      if (options.transferLeadership && this.session) await this.drainGroups(DRAIN_TIMEOUT_MS);
      if (options.transferLeadership && this.session) {
        const to = await this.handover.handOver(2 * this.session.timing.raft.electionTimeoutMinMs + 500);
        if (to) this.log.info('leadership handed over before stopping', { to });
      }
      this.closing = true;
      if (this.ticker) clearInterval(this.ticker);
      this.ticker = null;
      this.groupLeader.close();
      await this.apiServer?.close();
      this.peerApi.close();
      await this.groups.stop();
      await this.stopSession();
      this.roster.close();
      await this.transport.close();
      this.loopDelay.stop();
      await this.lock.release();
      this.log.info('agent stopped');
    })();
    return this.stopping;
  }

  // ---- Internals ---------------------------------------------------------

  private async startSession(record: ClusterRecord): Promise<void> {
    const session = await openSession(this.stateDir, this.identity, record, this.channels.endpoint('raft'), {
      onDatabaseChange: () => this.onDatabaseChange(),
      onFatal: (err) => this.fatal(err),
    }, this.log);
    this.session = session;
    this.heartbeatGaps = new HeartbeatGapMonitor(now());
    session.raftEndpoint.onMessage((m, from) => this.noteHeartbeat(m, from));
    this.liveness = new LivenessView(session.timing.liveness);
    this.leases.setTiming(session.timing.lease);
    this.refreshLiveness();
    this.refreshPeers();
    if (this.ticker) this.startTicker();
  }

  private async stopSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    await closeSession(session);
  }

  /** The watchdog this node's guard feeds, with T_wd (the guard's reading, else the one asked for; null until known); null: no watchdog fencing. */
  watchdogFencing(): { device: string; timeoutMs: number | null } | null {
    const watchdog = this.options.watchdog;
    if (watchdog === undefined) return null;
    return { device: watchdog.path, timeoutMs: this.groups.guard.watchdogTimeoutMs ?? watchdog.timeoutMs ?? null };
  }

  /**
   * Fencing = watchdog: T_wd (the guard's, else the one asked for) must
   * leave the lease room (guard/watchdog.ts, maxWatchdogTimeoutMs). At start
   * a problem refuses to run; a later change of the lease timing is logged.
   */
  private watchdogProblems(lease: LeaseTiming): string[] {
    const timeoutMs = this.groups.guard.watchdogTimeoutMs ?? this.options.watchdog?.timeoutMs;
    return this.options.watchdog === undefined || timeoutMs === undefined ? [] : watchdogTimeoutProblems(timeoutMs, lease);
  }

  /** After the runtime has taken the message: only its arrival time is recorded. */
  private noteHeartbeat(message: object, from: string): void {
    const m = message as { type?: unknown; term?: unknown };
    if (m.type === 'heartbeat' && typeof m.term === 'number') this.heartbeatGaps.observe(from, m.term, now());
  }

  private fatal(err: Error): void {
    this.log.error('the consensus runtime failed; stopping so that a restart recovers from the files', { err });
    this.options.onFatal?.(err);
  }

  private startTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    const interval = this.session?.timing.lease.heartbeatIntervalMs ?? 100;
    this.ticker = setInterval(() => this.tick(), interval);
  }

  /** Every heartbeat interval: liveness, lease renewal, and the leader's own duties. */
  private tick(): void {
    this.refreshLiveness();
    this.leases.tick();
    this.groupLeader.tick();
    this.groups.tick();
    this.noteRole();
    this.handover.checkLag();
    // A created cluster whose leader crashed before it listed itself: finish that now.
    if (this.raftStatus()?.role === 'leader' && this.db()?.listNodes().length === 0) {
      this.ensureListed({ actor: this.identity.nodeId, role: 'admin' })
        .catch((err: unknown) => this.log.warn('could not list this node in the new cluster yet', { err }));
    }
  }

  /** Logs changes of role, term and leader as the consensus core reports them. */
  private noteRole(): void {
    const status = this.raftStatus();
    const seen = status ? `${status.role}/${status.term}/${status.leader ?? '-'}` : '';
    if (seen === this.lastRole) return;
    this.lastRole = seen;
    if (!status) return;
    const leaderName = status.leader === null ? null : this.db()?.getNode(status.leader)?.name ?? status.leader;
    this.log.info(status.role === 'leader' ? 'leading the cluster' : 'consensus role changed', { role: status.role, term: status.term, leader: leaderName });
  }

  /** The first node of a new cluster adds itself to the database, once, whoever asks first. */
  private ensureListed(caller: Caller): Promise<void> {
    if (this.db()?.getNode(this.identity.nodeId) !== undefined) return Promise.resolve();
    this.selfAdd ??= this.propose(this.selfAddCommand(), caller).then(() => undefined).finally(() => {
      this.selfAdd = null;
    });
    return this.selfAdd;
  }

  private selfAddCommand(): ClusterCommand {
    const { nodeId, name, incarnation, keys } = this.identity;
    return { type: 'node.add', id: nodeId, name, address: this.address, hostKey: keys.publicKey, incarnation };
  }

  private onDatabaseChange(): void {
    if (this.peersRefreshQueued) return;
    this.peersRefreshQueued = true;
    queueMicrotask(() => {
      this.peersRefreshQueued = false;
      this.refreshPeers();
      this.refreshLiveness();
      const db = this.db();
      if (this.session && db) {
        const timing = timingFrom(db.getProperties());
        this.leases.setTiming(timing.lease);
        const watchdogProblems = this.watchdogProblems(timing.lease);
        const said = watchdogProblems.join('; ');
        if (said !== '' && said !== this.watchdogWarned) this.log.error('the lease timing leaves the watchdog too little room: this node will be reset when a renewal is late', { problems: watchdogProblems });
        this.watchdogWarned = said;
        this.groups.setTiming(timing.lease);
      }
      this.leases.onPlacementsChanged();
      this.groups.onDatabaseChange();
      this.groupLeader.onDatabaseChange();
    });
  }

  /** The liveness view's members (the database's nodes, joining while not yet a voter), and this node heard now. */
  refreshLiveness(): void {
    const db = this.db();
    const status = this.raftStatus();
    if (!db || !status) {
      this.liveness.setMembers([]);
      return;
    }
    this.liveness.setMembers(db.listNodes().map((n) => ({
      id: n.id,
      paused: n.paused,
      joining: status.membership.members.find((m) => m.id === n.id)?.role !== 'voter',
    })));
    this.liveness.observe(this.identity.nodeId, now());
  }

  /** The peers follow the database's node set (and, until it lists this node, the members it was told to join). */
  private refreshPeers(): void {
    const peers: PeerAddress[] = [];
    const db = this.db();
    const nodes = db?.listNodes() ?? [];
    for (const n of nodes) {
      const address = peerAddress(n.id, n.address, n.hostKey);
      if (address && n.id !== this.identity.nodeId) peers.push(address);
    }
    const listed = nodes.some((n) => n.id === this.identity.nodeId);
    if (!listed) {
      for (const m of this.session?.record.joinMembers ?? []) {
        const address = peerAddress(m.nodeId, m.address, m.publicKey);
        if (address && m.nodeId !== this.identity.nodeId && !peers.some((p) => p.id === m.nodeId)) peers.push(address);
      }
    }
    this.roster.set(peers);
  }

  /** SIGTERM: every group placed here moves to another node (bounded); what cannot move is killed with the agent. */
  private async drainGroups(timeoutMs: number): Promise<void> {
    const self = this.identity.nodeId;
    const mine = (this.db()?.listPlacements() ?? []).filter((p) => p.node === self).map((p) => p.group);
    if (mine.length === 0) return;
    this.log.info('moving this node\'s groups away before stopping', { groups: mine });
    const moving: string[] = [];
    for (const group of mine) {
      await this.api.dispatch('group.move', { group }, localCaller()).then(
        () => moving.push(group),
        (err: unknown) => this.log.warn('could not move group away', { group, err }),
      );
    }
    if (moving.length === 0) return;
    // Placed on another node (a move is cleared then), or placed nowhere and not moving: nothing left to wait for.
    const gone = (group: string): boolean => {
      const db = this.db();
      const node = db?.getPlacement(group)?.node ?? null;
      return node !== self && (node !== null || db?.getGroup(group)?.move == null);
    };
    await this.waitFor('groups to move away', timeoutMs, () => moving.every(gone) && !this.groups.status().some((run) => moving.includes(run.group)))
      .catch((err: unknown) => this.log.warn('groups still here at stop: the lease guard kills them', { err }));
  }

  /** A resource state report goes to the leader, which proposes it; lost ones are sent again by the runner. */
  private sendReport(cmd: ResourceReport): void {
    const leader = this.raftStatus()?.leader ?? null;
    if (leader === this.identity.nodeId) this.groupLeader.onReport(cmd, leader);
    else if (leader !== null) this.groupsEndpoint.send(leader, { t: 'report', cmd }, 'control');
  }

  private sendOrder(node: string, order: OwnerOrder): void {
    if (node === this.identity.nodeId) this.groups.onOrder(order);
    else this.groupsEndpoint.send(node, { t: 'order', order }, 'control');
  }

  /** Reports reach the leader; orders are taken only from the leader this node knows. */
  private receiveGroupMessage(message: object, from: string): void {
    const m = message as { t?: unknown; cmd?: unknown; order?: unknown };
    if (m.t === 'report' && isObject(m.cmd) && m.cmd.type === 'resourceState.set' && typeof m.cmd.resource === 'string') {
      this.groupLeader.onReport(m.cmd as unknown as ResourceReport, from);
    } else if (m.t === 'order' && isObject(m.order) && this.raftStatus()?.leader === from
      && (m.order.kind === 'restart' || m.order.kind === 'stop-resource') && typeof m.order.group === 'string') {
      this.groups.onOrder(m.order as unknown as OwnerOrder);
    }
  }

  private placements(): ReadonlyMap<string, Placement> {
    const out = new Map<string, Placement>();
    for (const p of this.db()?.listPlacements() ?? []) if (p.node !== null) out.set(p.group, { node: p.node, epoch: p.epoch });
    return out;
  }
}

function alreadyInCluster(record: ClusterRecord): AgentError {
  return new AgentError('E_CONFLICT', `this node is already in cluster ${record.clusterName} (${record.clusterId})`, 'leave it first with `fcm cluster destroy` on this node');
}

function peerAddress(id: string, address: string, publicKey: string): PeerAddress | null {
  const parsed = parseAddress(address);
  if (!parsed) return null;
  const host = parsed.host.startsWith('[') ? parsed.host.slice(1, -1) : parsed.host;
  return { id, host, port: parsed.port, hostPublicKey: publicKey, clientPublicKey: publicKey };
}

/** Who is asking on the local socket: only the agent's own user (or root) can open it (mode 0600). */
export function localCaller(): Caller {
  return { actor: `local:${process.getuid?.() ?? 0}`, role: 'admin' };
}

function advertisedHost(listenHost: string): string {
  return listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '' ? hostname() : listenHost;
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
