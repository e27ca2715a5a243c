// The leader's failover decisions. Each `plan` call reads the committed
// state, the liveness view, the lease granter's answers and the admin
// intents, and returns decisions as data (placement.set proposals, resource
// restarts and stops, reasons for waiting); it never acts.
//
// A group moves in two steps when its owner can still run it: first it is
// placed nowhere (the owner's next lease grant leaves it out, the owner stops
// it), then, once the lease granter says the group may start elsewhere, it is
// placed on the new node. A group whose owner is Down goes straight to the
// new node, as soon as its lease there has run out. Every placement on a
// node goes through `admitStart` (placement-gate.ts), so nothing here can
// place a group where safety rule 4 does not allow it yet.
//
// The planner remembers, between calls, what the committed state cannot
// say: where a group placed nowhere is on its way to, which failures it has
// already answered, restart and failover counts, and which nodes came back
// Up (for failback). A new leader's planner starts with none of it: a group
// that was between its two steps stays Offline until an administrator
// brings it online. Resumes of paused nodes, and their failback choice, are
// in the committed state (`NodeRecord.resumed`), so every leader honours
// them. Deterministic: the same calls give the same decisions, whatever the
// order of the records inside each input.

import type { NodeId } from '../consensus/types.js';
import type { GroupRecord, NodeResume } from '../db/schema.js';
import type { NodeState } from './membership.js';
import type { AdminIntent, Decision, IntentProblem, MoveReason, PlanInput } from './placement-decisions.js';
import type { Where } from './placement-view.js';
import { PlanView } from './placement-view.js';
import { admitStart, blockedUntil, stopCommand } from './placement-gate.js';
import { chooseOwner, inFailbackWindow, isPossibleOwner, preferenceRank } from './placement.js';
import { FailureMemory } from './placement-failures.js';

/** Where the planner is taking a group, beyond what its committed placement says. */
interface Goal {
  online: boolean;
  /** Start it on this node (an administrator's choice, or the failback target) while the node may take it. */
  target: NodeId | null;
  /** Start it elsewhere unless this node is the only candidate (it just failed there, or is being moved off it). */
  avoid: NodeId | null;
  /** Take it off its node while it is still in this placement epoch. */
  leaveEpoch: number | null;
  why: MoveReason;
}

function sameResume(a: NodeResume | null, b: NodeResume | null): boolean {
  return a === b || (a !== null && b !== null && a.failback === b.failback && a.epoch === b.epoch);
}

/** Reasons an administrator gave: these start groups of priority 0 too. */
const ADMIN_REASONS: readonly MoveReason[] = ['online', 'offline', 'move', 'cleanup'];

interface Output {
  stops: { priority: number; group: string; decision: Decision }[];
  starts: Decision[];
  resources: Decision[];
  waits: Decision[];
}

export class PlacementPlanner {
  private readonly goals = new Map<string, Goal>();
  private readonly failures = new FailureMemory();
  private readonly lastState = new Map<NodeId, NodeState>();
  /**
   * node → highest placement epoch when it last came back Up from Down or
   * Joining since it was last paused, and the resume recorded then.
   */
  private readonly returned = new Map<NodeId, { epoch: number; resumed: NodeResume | null }>();

  /**
   * Decisions in the order to act on them: refused intents; stops (lowest
   * priority first, so a drain takes the least important groups away first);
   * starts (highest priority first: they also chose their nodes first);
   * resource restarts and stops; waits.
   */
  plan(input: PlanInput): Decision[] {
    const v = new PlanView(input);
    this.forgetRemoved(v);
    this.observeLiveness(v);
    const refused: Decision[] = [];
    for (const intent of input.intents ?? []) {
      const problems = this.take(intent, v);
      if (problems.length > 0) refused.push({ kind: 'refused', intent, problems });
    }
    const out: Output = { stops: [], starts: [], resources: [], waits: [] };
    for (const group of v.groups) this.decide(group, v, out);
    out.stops.sort((a, b) => a.priority - b.priority || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    return [...refused, ...out.stops.map((s) => s.decision), ...out.starts, ...out.resources, ...out.waits];
  }

  private decide(g: GroupRecord, v: PlanView, out: Output): void {
    const at = v.where(g.name);
    const owner = at.node;
    if (owner !== null && this.onFailures(g, at, owner, v, out)) return;
    const goal = this.goals.get(g.name);
    if (!(goal?.online ?? owner !== null)) {
      if (owner !== null) this.stop(g, at, goal?.why ?? 'offline', v, out);
      else this.goals.delete(g.name);
      return;
    }
    if (owner === null) {
      // Only a goal makes a group placed nowhere wanted online; priority 0 only an administrator's.
      if (goal === undefined) return;
      if (g.priority === 0 && !ADMIN_REASONS.includes(goal.why)) this.goals.delete(g.name);
      else this.start(g, at, goal.target, goal.avoid, goal.why, v, out);
      return;
    }
    const leave = this.leaveReason(g, at, owner, goal, v);
    if (leave === null) {
      this.goals.delete(g.name);
      this.failback(g, at, owner, v, out);
    } else if (g.priority === 0 && !ADMIN_REASONS.includes(leave)) {
      // Priority 0: never started automatically, so it goes offline.
      this.goals.set(g.name, { online: false, target: null, avoid: null, leaveEpoch: null, why: leave });
      this.stop(g, at, leave, v, out);
    } else if (!v.reachable(owner)) {
      this.start(g, at, goal?.target ?? null, owner, leave, v, out);
    } else {
      this.goals.set(g.name, { online: true, target: goal?.target ?? null, avoid: goal?.avoid ?? null, leaveEpoch: at.epoch, why: leave });
      this.stop(g, at, leave, v, out);
    }
  }

  /** Why the group must leave `owner`; null when it may stay. */
  private leaveReason(g: GroupRecord, at: Where, owner: NodeId, goal: Goal | undefined, v: PlanView): MoveReason | null {
    if (goal !== undefined && goal.leaveEpoch === at.epoch) return goal.why;
    if (goal?.target != null && goal.target !== owner) return goal.why;
    const node = v.node(owner);
    if (node === undefined || !v.reachable(owner)) return 'node-down';
    if (node.kind !== 'node' || !isPossibleOwner(g, v.resources(g.name), owner)) return 'not-possible-owner';
    if (node.paused && node.drain) return 'drain';
    return null;
  }

  private stop(g: GroupRecord, at: Where, why: MoveReason, v: PlanView, out: Output): void {
    out.stops.push({ priority: g.priority, group: g.name, decision: { kind: 'propose', command: stopCommand(g.name, at.epoch), why } });
    if (at.node !== null) v.occupancy.remove(g.name, at.node);
  }

  /** Place the group on `target` if it may take it, else on the best candidate; through the rule-4 gate. */
  private start(g: GroupRecord, at: Where, target: NodeId | null, avoid: NodeId | null, why: MoveReason, v: PlanView, out: Output): void {
    const candidates = v.candidates(g);
    const node = target !== null && candidates.includes(target) ? target : chooseOwner(g, candidates, v.occupancy, avoid);
    if (node === null) {
      out.waits.push({ kind: 'wait', group: g.name, why: { reason: 'no-candidate' } });
      return;
    }
    const admission = admitStart(v.placeable, g.name, node, at.epoch);
    if (!admission.ok) {
      const { blockers } = admission;
      out.waits.push({ kind: 'wait', group: g.name, why: { reason: 'lease', node, blockers, until: blockedUntil(blockers) } });
      return;
    }
    out.starts.push({ kind: 'propose', command: admission.command, why });
    // Until the commit shows, later plans keep to this choice.
    const goal = this.goals.get(g.name) ?? { online: true, avoid, why };
    this.goals.set(g.name, { ...goal, target: node, leaveEpoch: null });
    if (at.node !== null) v.occupancy.remove(g.name, at.node);
    v.occupancy.place(g, node);
  }

  /**
   * Failback to the most preferred node that came back (or was resumed)
   * since the group was placed, as its policy, or the resume, allows.
   */
  private failback(g: GroupRecord, at: Where, owner: NodeId, v: PlanView, out: Output): void {
    if (g.priority === 0) return;
    for (const node of g.preferredOwners.slice(0, preferenceRank(g, owner))) {
      const how = this.failbackTo(node, at.epoch, v);
      if (how === null || v.unfit(node, g).length > 0) continue;
      if (v.occupancy.clashes(node, g) > v.occupancy.clashes(owner, g)) continue;
      const force = how === 'now';
      const window = g.failback === 'window' ? g.failbackWindow : null;
      if (!force && g.failback !== 'immediate' && window === null) continue;
      if (!force && window !== null && !inFailbackWindow(window, v.wallHour)) {
        out.waits.push({ kind: 'wait', group: g.name, why: { reason: 'failback-window', node, startHour: window.startHour } });
        return;
      }
      this.goals.set(g.name, { online: true, target: node, avoid: null, leaveEpoch: at.epoch, why: 'failback' });
      this.stop(g, at, 'failback', v, out);
      return;
    }
  }

  /**
   * Answers failed resources of the group's current placement on `owner`:
   * restart in place, fail the group over (sets the goal), or hold it
   * Failed where it is, even if its node goes down. True when the group is
   * held and nothing else is to be decided.
   */
  private onFailures(g: GroupRecord, at: Where, owner: NodeId, v: PlanView, out: Output): boolean {
    const goal = this.goals.get(g.name);
    if (goal !== undefined && (goal.leaveEpoch === at.epoch || !goal.online || (goal.target !== null && goal.target !== owner))) return false;
    const reachable = v.reachable(owner);
    const answer = this.failures.answer(g, at, reachable, v);
    switch (answer.kind) {
      case 'held':
        // Its resources still running are stopped, so that the whole group is down.
        for (const r of reachable ? v.resources(g.name) : []) {
          const state = v.resourceState(r.name, at.epoch)?.state;
          if (state === 'Online' || state === 'OnlinePending') {
            out.resources.push({ kind: 'stop-resource', group: g.name, resource: r.name, node: owner, epoch: at.epoch });
          }
        }
        out.waits.push({ kind: 'wait', group: g.name, why: { reason: 'failover-threshold', retryAt: answer.retryAt } });
        return true;
      case 'retry':
      case 'failover':
        this.goals.set(g.name, { online: true, target: null, avoid: owner, leaveEpoch: at.epoch, why: answer.kind });
        return false;
      case 'in-place':
        for (const r of answer.restarts) out.resources.push({ kind: 'restart', group: g.name, node: owner, epoch: at.epoch, ...r });
        for (const resource of answer.stayFailed) out.waits.push({ kind: 'wait', group: g.name, why: { reason: 'resource-failed', resource } });
        return false;
    }
  }

  /**
   * Whether a group placed in `epoch` fails back to `node`: `now` whatever
   * its policy, `policy` as its policy says, null not at all. A resume
   * recorded after the placement decides (its failback may be never);
   * otherwise a return of the node after the placement lets the policy decide.
   */
  private failbackTo(node: NodeId, epoch: number, v: PlanView): 'now' | 'policy' | null {
    const resumed = v.node(node)?.resumed ?? null;
    const back = this.returned.get(node);
    // The later of the two decides: a return seen with the resume now recorded came after it.
    if (back !== undefined && sameResume(back.resumed, resumed)) return epoch <= back.epoch ? 'policy' : null;
    if (resumed !== null && epoch <= resumed.epoch) return resumed.failback === 'never' ? null : resumed.failback;
    return null;
  }

  /**
   * A node coming Up from Down or Joining (not its first sighting) is a
   * return that may trigger failback. Paused to Up is a resume, which the
   * committed node record answers with its own failback choice; a pause
   * ends what an earlier return asked.
   */
  private observeLiveness(v: PlanView): void {
    for (const id of v.nodeIds) {
      const state = v.state(id);
      const before = this.lastState.get(id);
      this.lastState.set(id, state);
      const node = v.node(id);
      if (node?.paused === true || state === 'Paused') this.returned.delete(id);
      if (before === undefined || before === 'Up' || before === 'Paused' || state !== 'Up') continue;
      this.returned.set(id, { epoch: v.maxEpoch, resumed: node?.resumed ?? null });
    }
  }

  /** Memory of groups, resources and nodes no longer in the committed state. */
  private forgetRemoved(v: PlanView): void {
    for (const name of this.goals.keys()) if (v.group(name) === undefined) this.goals.delete(name);
    this.failures.forgetRemoved(v);
    for (const map of [this.lastState, this.returned]) for (const id of map.keys()) if (v.node(id) === undefined) map.delete(id);
  }

  /** Takes an intent into the goals; every problem that refuses it, or none. */
  private take(intent: AdminIntent, v: PlanView): IntentProblem[] {
    const g = v.group(intent.group);
    const node = 'node' in intent && intent.node !== undefined ? v.findNode(intent.node) : undefined;
    const problems: IntentProblem[] = [];
    if (g === undefined) problems.push({ code: 'E_NOT_FOUND', message: `no group ${intent.group}` });
    if ('node' in intent && intent.node !== undefined && node === undefined) problems.push({ code: 'E_NOT_FOUND', message: `no node ${intent.node}` });
    if (g === undefined || problems.length > 0) return problems;
    const at = v.where(g.name);
    const goal = this.goals.get(g.name);
    const goalOf = (next: Goal): IntentProblem[] => {
      this.goals.set(g.name, next);
      return [];
    };
    if (intent.kind === 'offline') {
      this.failures.forget(g, v);
      return goalOf({ online: false, target: null, avoid: null, leaveEpoch: null, why: 'offline' });
    }
    if (intent.kind === 'cleanup') {
      this.failures.forget(g, v);
      const failed = at.node !== null && v.resources(g.name).some((r) => v.resourceState(r.name, at.epoch)?.state === 'Failed');
      return failed ? goalOf({ online: true, target: null, avoid: null, leaveEpoch: at.epoch, why: 'cleanup' }) : [];
    }
    if (node !== undefined) {
      if (at.node === node.id) {
        this.goals.delete(g.name);
        return [];
      }
      const unfit = v.unfit(node.id, g);
      if (unfit.length > 0) return [{ code: 'E_NOT_CANDIDATE', message: `node ${node.name} cannot run group ${g.name} now: ${unfit.join(', ')}` }];
      this.failures.forget(g, v);
      return goalOf({ online: true, target: node.id, avoid: null, leaveEpoch: null, why: intent.kind });
    }
    if (intent.kind === 'online' || at.node === null) {
      // Online where placement chooses; a group already running stays, held or not.
      if (goal !== undefined) return goalOf({ ...goal, online: true, why: goal.online ? goal.why : intent.kind });
      return at.node === null ? goalOf({ online: true, target: null, avoid: null, leaveEpoch: null, why: intent.kind }) : [];
    }
    const owner = at.node;
    if (v.candidates(g).every((n) => n === owner)) {
      return [{ code: 'E_NO_CANDIDATE', message: `no node other than ${owner} can run group ${g.name} now` }];
    }
    this.failures.forget(g, v);
    return goalOf({ online: true, target: null, avoid: owner, leaveEpoch: at.epoch, why: 'move' });
  }
}
