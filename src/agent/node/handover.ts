// Handing leadership to another voter: before SIGTERM stops the agent,
// before the leader removes itself, and when the leader's event loop lags
// by more than E_min / 3 (it would answer heartbeats and lease requests too
// late to lead well). Node lease grants stop first (safety rule 3).
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../consensus/types.js';
import type { NodeAgent } from './node-agent.js';

/** Least time between two hand-overs for event-loop lag, ms. */
const LAG_HANDOVER_COOLDOWN_MS = 30_000;

export class LeadershipHandover {
  private lagHandOver: Promise<unknown> | null = null;
  private lastLagHandOverAt = -Infinity;

  constructor(private readonly agent: NodeAgent) {}

  /**
   * Hands leadership to the voter that is most caught up and not Down, and
   * waits (bounded) until this node no longer leads. Returns the new leader,
   * or null when there is no one to hand to or it did not happen in time.
   */
  async handOver(timeoutMs: number): Promise<NodeId | null> {
    const { agent } = this;
    const session = agent.session;
    const status = session?.runtime.status();
    if (!session || !status || status.role !== 'leader') return null;
    const now = performance.now();
    const target = status.membership.members
      .filter((m) => m.id !== agent.identity.nodeId && m.role === 'voter' && m.kind !== 'metadata-witness')
      .filter((m) => agent.liveness.state(m.id, now)?.state !== 'Down')
      .sort((a, b) => (status.progress[b.id]?.match ?? 0) - (status.progress[a.id]?.match ?? 0))[0];
    if (!target) return null;
    // Rule 3: stop granting node leases before the transfer starts.
    agent.leases.stopGranting();
    try {
      session.runtime.transferLeadership(target.id);
    } catch (err) {
      agent.log.warn('leadership transfer refused', { to: target.id, err });
      return null;
    }
    agent.log.info('handing leadership over', { to: target.id });
    try {
      await agent.waitFor('the leadership transfer', timeoutMs, () => {
        const s = session.runtime.status();
        return s.role !== 'leader' && s.leader !== null;
      });
    } catch {
      return null;
    }
    return session.runtime.status().leader;
  }

  /** Called every heartbeat interval: a lagging leader hands over, at most once per cooldown. */
  checkLag(): void {
    const session = this.agent.session;
    if (!session || this.lagHandOver || session.runtime.status().role !== 'leader') return;
    const lagMs = this.agent.loopDelay.p99Ms();
    const now = performance.now();
    if (lagMs <= session.timing.raft.electionTimeoutMinMs / 3 || now - this.lastLagHandOverAt < LAG_HANDOVER_COOLDOWN_MS) return;
    this.lastLagHandOverAt = now;
    this.agent.log.warn('event loop lags: handing leadership over', { p99Ms: Math.round(lagMs) });
    this.lagHandOver = this.handOver(2 * session.timing.raft.electionTimeoutMinMs)
      .then((to) => { if (to) this.agent.log.info('leadership handed over', { to }); })
      .finally(() => { this.lagHandOver = null; });
  }
}
