// Failover trials on a real lab, judged by the outside observer: for every
// scenario × kind, `trials` times: put the group on a node of that kind,
// read who leads, inject the fault, then restore the lab (heal, start
// what is down) and wait until every node is Up and the group is Online on
// exactly one node — as the cluster says and as the observer sees it. The
// same runner serves CI (a few trials) and the benchmark (50 and more).
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GroupView } from '../../src/client/api.js';
import { summarize } from '../bench/stats.js';
import { eventually } from '../e2e/helpers.js';
import type { SimRng } from '../sim/rng.js';
import { describeDualActive, judgeGroup } from './history.js';
import type { Instance } from './history.js';
import type { FailoverLab, FailoverNode } from './lab.js';
import { Observer } from './observer.js';
import type { Kind, Scenario } from './scenarios.js';

export interface TrialRecord {
  scenario: string;
  kind: Kind;
  trial: number;
  owner: string | null;
  leaderBefore: string | null;
  leaderAfter: string | null;
  /** Where the group runs once the lab is restored. */
  newOwner: string | null;
  /** The node of the first instance elsewhere after the fault; null when the group stayed. */
  movedTo: string | null;
  /** Fault → that instance connected, ms. */
  failoverMs: number | null;
  /** The old instance's end → that instance connected, ms (negative: both were active). */
  gapMs: number | null;
  /** Instances started on the old owner itself after the fault (restarted in place). */
  restartsOnOwner: number;
  /** Smallest gap between any two instances from the fault to the end of the restore, ms. */
  smallestGapMs: number | null;
  dualActive: string[];
  actions: string[];
  /** Where the lab's logs and the observer's history were saved, when the trial went wrong; else null. */
  logs: string | null;
  /** Why the trial did not end Online on exactly one node, or could not run; null when all went well. */
  error: string | null;
}

export interface ScenarioSummary {
  scenario: string;
  kind: Kind;
  /** Why it did not run at all, or null. */
  skipped: string | null;
  trials: number;
  dualActive: number;
  dualActiveDetails: string[];
  /** Over the trials in which the group moved, ms. */
  failoverMs: { n: number; p50: number; p99: number; max: number } | null;
  smallestGapMs: number | null;
  errors: string[];
}

export interface TrialsReport {
  summaries: ScenarioSummary[];
  records: TrialRecord[];
}

export interface TrialsOptions {
  lab: FailoverLab;
  observer: Observer;
  group: string;
  scenarios: readonly Scenario[];
  kinds: readonly Kind[];
  trials: number;
  rng: SimRng;
  log: (line: string) => void;
}

/** Longest wait for a group that must move to come up elsewhere, ms. */
const MOVE_TIMEOUT_MS = 30_000;
/** Longest wait for the restored lab (nodes Up, group Online on one node), ms: a restarted agent catches up first. */
const RESTORE_TIMEOUT_MS = 60_000;
/** Quiet time before a fault, ms: two heartbeats, so the owner holds a fresh lease naming the group. */
const QUIET_MS = 200;

const OBSERVED_RESOURCE = fileURLToPath(new URL('./observed-resource.js', import.meta.url));

/** Single-quoted for the process type's word splitting (no shell runs it). */
function quoted(word: string): string {
  if (word.includes("'")) throw new Error(`cannot quote ${word} for a command parameter`);
  return `'${word}'`;
}

/**
 * An Observer, and `group` with one observed `process` resource
 * (`r-<group>`) brought Online; resolves once the observer sees it.
 */
export async function observeGroup(lab: FailoverLab, group: string): Promise<Observer> {
  const observer = await Observer.listen({ nodeNames: new Map(lab.nodes.map((n) => [n.id, n.name])) });
  try {
    const command = [process.execPath, OBSERVED_RESOURCE, observer.socketPath, group].map(quoted).join(' ');
    // Node failures do not count against the threshold, but restarts after a killed monitor may: keep the group movable.
    await lab.fcm(['group', 'create', group, 'failoverThreshold=1000']);
    await lab.fcm(['resource', 'create', `r-${group}`, '--group', group, '--type', 'process', `command=${command}`]);
    await lab.fcm(['group', 'online', group]);
    await observer.until(`the first instance of ${group}`, () => (observer.active(group).length === 1 ? true : undefined), 20_000);
    return observer;
  } catch (err) {
    await observer.close();
    throw err;
  }
}

/** The group on a node of `kind`, moved there if need be, and its one running instance; the leader read again after a quiet time. */
async function placeForKind(o: TrialsOptions, kind: Kind): Promise<{ owner: FailoverNode; leader: { node: FailoverNode; term: number }; running: Instance }> {
  const { lab, observer, group } = o;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const leader = await lab.leader();
    const view = await lab.group(group);
    if (leader !== null && view !== null && view.owner !== null) {
      const owner = lab.node(view.owner);
      const active = observer.active(group);
      const running = active.length === 1 && active[0]?.node === owner.name ? active[0] : undefined;
      if ((owner === leader.node) === (kind === 'leader') && running !== undefined) {
        // Still so after the quiet time: same leader, same placement, the same instance running.
        await sleep(QUIET_MS);
        const [now, later] = [await lab.leader(), await lab.group(group)];
        const still = observer.active(group);
        if (now?.node === leader.node && later?.owner === view.owner && later.epoch === view.epoch && still.length === 1 && still[0]?.pid === running.pid) {
          return { owner, leader: now, running };
        }
        continue;
      }
      const target = kind === 'leader' ? leader.node : o.rng.pick(lab.nodes.filter((n) => n !== leader.node));
      if (target !== owner) await lab.fcm(['group', 'move', group, '--to', target.name]);
      await observer.until(`${group} active on ${target.name} alone`, () => {
        const a = observer.active(group);
        return a.length === 1 && a[0]?.node === target.name ? true : undefined;
      }, 20_000);
    } else {
      await sleep(100);
    }
  }
  throw new Error(`could not put ${group} on a ${kind} in 5 attempts`);
}

/** The first instance on a node other than `owner` that connected at or after `faultAt`. */
function firstElsewhere(history: readonly Instance[], owner: string, faultAt: number): Instance | undefined {
  return history.find((i) => i.connectedAt >= faultAt && i.node !== owner);
}

/** Heals every cut node, starts every stopped agent, and waits for a settled cluster (FailoverLab.settled) with the group Online on exactly one node. */
async function restore(o: TrialsOptions): Promise<{ owner: string; leader: string }> {
  const { lab, observer, group } = o;
  // cutFrom (pair cuts) is there once `lab cut --from` exists; a plain heal lifts those too.
  const status = JSON.parse((await lab.fcm(['lab', 'status', '--json'])).out) as { nodes: { name: string; running: boolean; cut: string | null; cutFrom?: string[] }[] };
  for (const node of status.nodes) {
    if (node.cut !== null || (node.cutFrom ?? []).length > 0) await lab.fcm(['lab', 'heal', node.name]);
    if (!node.running) await lab.fcm(['lab', 'start', node.name]);
  }
  return eventually(`a settled cluster and ${group} Online on exactly one node`, async () => {
    const settled = await lab.settled();
    if (typeof settled === 'string') throw new Error(settled);
    const view = await lab.call<GroupView>(settled.leader, 'group.show', { group, consistent: true });
    const active = observer.active(group);
    if (view.state !== 'Online' || view.owner === null) throw new Error(`${group} is ${view.state} on ${view.owner ?? 'no node'}`);
    if (active.length !== 1 || active[0]?.node !== view.owner) throw new Error(`${group} placed on ${view.owner} but active on [${active.map((i) => i.node).join(', ')}]`);
    return { owner: view.owner, leader: settled.leader.name };
  }, RESTORE_TIMEOUT_MS, 100);
}

async function runTrial(o: TrialsOptions, scenario: Scenario, kind: Kind, trial: number): Promise<{ record: TrialRecord; restored: boolean }> {
  const { lab, observer, group } = o;
  const record: TrialRecord = {
    scenario: scenario.name, kind, trial, owner: null, leaderBefore: null, leaderAfter: null, newOwner: null,
    movedTo: null, failoverMs: null, gapMs: null, restartsOnOwner: 0, smallestGapMs: null, dualActive: [], actions: [], logs: null, error: null,
  };
  let windowStart = performance.now();
  let judged: { owner: string; old: Instance; faultAt: number } | undefined;
  try {
    const { owner, leader, running: old } = await placeForKind(o, kind);
    record.owner = owner.name;
    record.leaderBefore = leader.node.name;
    windowStart = performance.now();
    const fault = await scenario.run({ lab, observer, group, owner, leader, rng: o.rng });
    record.actions = fault.actions;
    judged = { owner: owner.name, old, faultAt: fault.faultAt };
    if (fault.expect === 'move') {
      await observer.until(`${group} on a node other than ${owner.name}`, () => firstElsewhere(observer.instances(group), owner.name, fault.faultAt), MOVE_TIMEOUT_MS);
    }
  } catch (err) {
    record.error = (err as Error).message;
  }
  let restored = true;
  try {
    const end = await restore(o);
    record.newOwner = end.owner;
    record.leaderAfter = end.leader;
  } catch (err) {
    restored = false;
    record.error = [record.error, `not restored: ${(err as Error).message}`].filter((e) => e !== null).join('; ');
  }
  // After the restore: a group that may stay can also leave while the lab is being restored.
  const history = observer.instances(group);
  if (judged !== undefined) {
    const { owner, old, faultAt } = judged;
    record.restartsOnOwner = history.filter((i) => i.connectedAt >= faultAt && i.node === owner).length;
    const moved = firstElsewhere(history, owner, faultAt);
    if (moved !== undefined) {
      record.movedTo = moved.node;
      record.failoverMs = Math.round(moved.connectedAt - faultAt);
      const oldEnd = history.find((i) => i.pid === old.pid && i.connectedAt === old.connectedAt)?.closedAt ?? performance.now();
      record.gapMs = Math.round(moved.connectedAt - oldEnd);
    }
  }
  const verdict = judgeGroup(group, history.filter((i) => (i.closedAt ?? Infinity) >= windowStart), performance.now());
  record.dualActive = verdict.dualActive.map(describeDualActive);
  record.smallestGapMs = verdict.smallestGapMs === null ? null : Math.round(verdict.smallestGapMs);
  if (record.error !== null || record.dualActive.length > 0) {
    const trace = { record, windowStart, instances: observer.instances(group) };
    record.logs = await lab.saveLogs(`${scenario.name}-${kind}-${trial}`, { 'trial.json': `${JSON.stringify(trace, null, 2)}\n` });
  }
  return { record, restored };
}

function summary(scenario: string, kind: Kind, records: readonly TrialRecord[], skipped: string | null): ScenarioSummary {
  const failovers = records.map((r) => r.failoverMs).filter((ms): ms is number => ms !== null);
  const gaps = records.map((r) => r.smallestGapMs).filter((ms): ms is number => ms !== null);
  const s = summarize(failovers, 0);
  return {
    scenario, kind, skipped, trials: records.length,
    dualActive: records.reduce((n, r) => n + r.dualActive.length, 0),
    dualActiveDetails: records.flatMap((r) => r.dualActive.map((d) => `trial ${r.trial}: ${d}`)),
    failoverMs: failovers.length === 0 ? null : { n: s.n, p50: s.p50, p99: s.p99, max: s.max },
    smallestGapMs: gaps.length === 0 ? null : Math.min(...gaps),
    errors: records.filter((r) => r.error !== null).map((r) => `trial ${r.trial}: ${r.error as string}`),
  };
}

function describeTrial(r: TrialRecord, of: number): string {
  const restarts = r.restartsOnOwner === 0 ? '' : `, restarted on ${r.owner ?? '?'} ×${r.restartsOnOwner}`;
  const moved = `${r.movedTo === null ? 'stayed' : `→ ${r.movedTo} in ${r.failoverMs} ms (gap ${r.gapMs} ms)`}${restarts}`;
  const dual = r.dualActive.length === 0 ? '' : ` DUAL-ACTIVE: ${r.dualActive.join('; ')}`;
  const error = r.error === null ? '' : ` ERROR: ${r.error}`;
  const logs = r.logs === null ? '' : ` (logs: ${r.logs})`;
  return `${r.scenario}/${r.kind} ${r.trial}/${of}: owner ${r.owner ?? '?'}, leader ${r.leaderBefore ?? '?'}; ${moved}; now on ${r.newOwner ?? '?'}, leader ${r.leaderAfter ?? '?'}${dual}${error}${logs}`;
}

/**
 * Runs every scenario × kind `trials` times, in that order. A scenario the
 * lab cannot run is reported as skipped. When the lab cannot be restored
 * after a trial the remaining trials are not run (their scenarios report
 * the error).
 */
export async function runTrials(o: TrialsOptions): Promise<TrialsReport> {
  const summaries: ScenarioSummary[] = [];
  const records: TrialRecord[] = [];
  let broken: string | null = null;
  for (const scenario of o.scenarios) {
    const skipped = await scenario.unavailable(o.lab);
    for (const kind of o.kinds) {
      if (skipped !== null) {
        o.log(`${scenario.name}/${kind}: skipped: ${skipped}`);
        summaries.push(summary(scenario.name, kind, [], skipped));
        continue;
      }
      const done: TrialRecord[] = [];
      for (let t = 1; t <= o.trials && broken === null; t++) {
        const { record, restored } = await runTrial(o, scenario, kind, t);
        done.push(record);
        o.log(describeTrial(record, o.trials));
        for (const action of record.error === null && record.dualActive.length === 0 ? [] : record.actions) o.log(`  ${action}`);
        if (!restored) broken = `the lab was not restored after ${scenario.name}/${kind} trial ${t}`;
      }
      records.push(...done);
      const s = summary(scenario.name, kind, done, null);
      if (broken !== null && done.length < o.trials) s.errors.push(`${o.trials - done.length} trials not run: ${broken}`);
      summaries.push(s);
    }
  }
  return { summaries, records };
}
