// Adding and removing nodes, on the leader. Each step is idempotent, so a
// retried `node add` after a timeout picks up where the last one stopped:
//   add:    db node.add -> add-learner -> wait until caught up -> promote
//   remove: (leader? hand over first) -> remove from the membership -> tell
//           the node it left -> db node.remove
//   evict:  remove from the membership -> db node.remove, without its help
// Membership changes go one at a time (the core allows one voter change in
// flight); this class queues them.
import { performance } from 'node:perf_hooks';
import type { AgentIdentity, NodeView } from '../../client/api.js';
import type { MembershipChange, NodeId } from '../consensus/types.js';
import type { NodeRecord } from '../db/schema.js';
import { didYouMean } from '../db/suggest.js';
import { RuntimeError } from '../runtime/consensus-runtime.js';
import { publicKeyBlob } from '../transport/keys.js';
import { AgentError, refusedByReports } from './agent-error.js';
import type { Caller } from './api-server.js';
import type { NodeAgent } from './node-agent.js';
import { DEPARTURE_GRACE_MS } from './peer-roster.js';
import { nodeView } from './views.js';

const RETRY_MS = 50;

export class MembershipOps {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly agent: NodeAgent) {}

  add(identity: AgentIdentity, caller: Caller, timeoutMs: number): Promise<NodeView> {
    return this.serialized(() => this.addNow(identity, caller, performance.now() + timeoutMs));
  }

  remove(ref: string, caller: Caller, force: boolean, timeoutMs: number): Promise<{ removed: string }> {
    return this.serialized(() => this.removeNow(ref, caller, { graceful: true, force }, timeoutMs));
  }

  evict(ref: string, caller: Caller, force: boolean, timeoutMs: number): Promise<{ removed: string }> {
    return this.serialized(() => this.removeNow(ref, caller, { graceful: false, force }, timeoutMs));
  }

  /** A node of the database by name or id; E_NOT_FOUND with a did-you-mean hint. */
  findNode(ref: string): NodeRecord {
    const db = this.agent.requireSession().machine.db;
    const node = db.getNode(ref);
    if (node) return node;
    const names = db.listNodes().map((n) => n.name);
    throw new AgentError('E_NOT_FOUND', `no node '${ref.slice(0, 64)}' in this cluster`, didYouMean(ref, names) ?? (names.length > 0 ? `nodes: ${names.join(', ')}` : undefined));
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async addNow(identity: AgentIdentity, caller: Caller, deadline: number): Promise<NodeView> {
    const session = this.agent.requireSession();
    const { nodeId: id, name, incarnation, publicKey, address } = identity;
    try {
      publicKeyBlob(publicKey);
    } catch {
      throw new AgentError('E_INVALID_PARAMS', 'identity.publicKey is not a public key this agent can pin', 'pass what `agent.identity` on the new node returns');
    }
    if (id === this.agent.identity.nodeId) throw new AgentError('E_CONFLICT', `node ${name} is this node, already a member`);
    const existing = session.machine.db.getNode(id);
    if (existing && existing.incarnation !== incarnation) {
      throw new AgentError('E_CONFLICT', `node ${existing.name} is listed with another incarnation: its state directory was made anew`, `evict the old one first: fcm node evict ${existing.name}`);
    }
    if (!existing) await this.agent.propose({ type: 'node.add', id, name, address, hostKey: publicKey, incarnation }, caller);
    const member = (): { role: string } | undefined => session.runtime.status().membership.members.find((m) => m.id === id);
    if (!member()) {
      await this.changeMembership({ type: 'add-learner', id, incarnation, kind: 'node' }, deadline);
      this.agent.log.info('node added as a learner', { node: name, id });
    }
    if (member()?.role !== 'voter') {
      await this.waitCaughtUp(id, identity, deadline);
      await this.changeMembership({ type: 'promote', id }, deadline);
      this.agent.log.info('node promoted to voter', { node: name, id });
    }
    return nodeView(this.agent, this.findNode(id));
  }

  private async removeNow(ref: string, caller: Caller, how: { graceful: boolean; force: boolean }, timeoutMs: number): Promise<{ removed: string }> {
    const { graceful, force } = how;
    const session = this.agent.requireSession();
    const node = this.findNode(ref);
    const self = node.id === this.agent.identity.nodeId;
    // The database's objections (last voter, groups it owns) before anything changes.
    const reports = session.machine.db.validate({ cmd: { type: 'node.remove', node: node.id }, actor: caller.actor, at: Date.now(), ...(force ? { force } : {}) });
    if (reports.some((r) => r.severity === 'error')) throw refusedByReports(reports, 'node.remove');
    if (self) {
      if (!graceful) throw new AgentError('E_REFUSED', `node ${node.name} is the leader, and up`, `use fcm node remove ${node.name}: leadership moves first`);
      const to = await this.agent.handover.handOver(timeoutMs / 2);
      if (!to) throw new AgentError('E_REFUSED', `node ${node.name} leads and no other voter is up to date to take over`, 'wait until the other nodes are Up, then retry');
      this.agent.log.info('leadership handed over to remove this node', { to });
      // The new leader tells this node to leave (cluster.destroy), then drops it
      // from the database and answers, within the departure grace. Should that
      // answer be lost, having left is proof enough once the grace is over.
      const answer = this.agent.peerApi.call(to, 'node.remove', { node: node.id, ...(force ? { force } : {}) }, caller, timeoutMs) as Promise<{ removed: string }>;
      const left = this.agent.waitFor('this node to be removed', timeoutMs, () => this.agent.session === null)
        .then(() => new Promise((resolve) => setTimeout(resolve, 2 * DEPARTURE_GRACE_MS)))
        .then(() => ({ removed: node.name }));
      answer.catch(() => undefined);
      left.catch(() => undefined);
      return await Promise.race([answer, left]);
    }
    const deadline = performance.now() + timeoutMs;
    if (graceful && this.agent.liveness.state(node.id, performance.now())?.state === 'Down') {
      throw new AgentError('E_REFUSED', `node ${node.name} is down: it cannot leave cleanly`, `remove it without its help: fcm node evict ${node.name}`);
    }
    if (session.runtime.status().membership.members.some((m) => m.id === node.id)) {
      await this.changeMembership({ type: 'remove', id: node.id }, deadline);
      this.agent.log.info('node removed from the membership', { node: node.name, id: node.id });
    }
    if (graceful) {
      // While it is still a peer: it wipes its cluster state and stops taking part.
      await this.agent.peerApi.call(node.id, 'cluster.destroy', {}, caller, Math.max(1000, deadline - performance.now()))
        .catch((err: unknown) => this.agent.log.warn('the removed node did not confirm that it left', { node: node.name, err }));
    }
    await this.agent.propose({ type: 'node.remove', node: node.id }, caller, force);
    return { removed: node.name };
  }

  /** One membership change; retried while the previous one is not committed yet. */
  private async changeMembership(change: MembershipChange, deadline: number): Promise<void> {
    const runtime = this.agent.requireSession().runtime;
    for (;;) {
      try {
        await runtime.proposeMembership(change);
        return;
      } catch (err) {
        if (!(err instanceof RuntimeError) || err.code !== 'E_MEMBERSHIP_PENDING') throw err;
        if (performance.now() >= deadline) throw new AgentError('E_TIMEOUT', `timed out waiting to ${change.type} ${change.id}: ${err.message}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Until the learner's log matches the leader's commit index (read when the wait starts). */
  private async waitCaughtUp(id: NodeId, identity: AgentIdentity, deadline: number): Promise<void> {
    const session = this.agent.requireSession();
    const runtime = session.runtime;
    const target = runtime.status().commitIndex;
    for (;;) {
      if (this.agent.session !== session) throw new AgentError('E_STOPPED', 'this node left the cluster or is stopping');
      const status = runtime.status();
      if (status.role !== 'leader') throw new RuntimeError('E_NOT_LEADER', 'this node stopped leading while adding a node', status.leader);
      if ((status.progress[id]?.match ?? 0) >= target) return;
      if (performance.now() >= deadline) {
        throw new AgentError('E_TIMEOUT', `node ${identity.name} did not catch up with the log in time`, `is its agent running, reachable at ${identity.address}, and was it told cluster.join first? Retrying node add continues where this stopped`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}
