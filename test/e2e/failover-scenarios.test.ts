// Safety of failover as an outside observer judges it, on real 3-node labs
// (`fcm lab up`): a group whose only resource reports to an Observer, and
// every failover scenario (test/failover/scenarios.ts) × {follower-owned,
// leader-owned}, FCM_FAILOVER_TRIALS times each (default 2). All run on one
// lab with fencing none, except stop-all, which breaks assumption A2 there
// and gets a lab of its own with `--fencing watchdog`. Every trial must end
// with all nodes Up and the group Online on exactly one node, and the
// observer must never see the group active on two nodes at once. The random
// choices come from one seed (FCM_FAILOVER_SEED, printed). `fcm lab down`
// must leave no lab process, no observed resource and no cgroup of the
// lab's nodes.
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCgroup2Mount } from '../../src/agent/guard/mountinfo.js';
import { SimRng } from '../sim/rng.js';
import { describeDualActive } from '../failover/history.js';
import { FailoverLab } from '../failover/lab.js';
import type { Observer } from '../failover/observer.js';
import { SCENARIOS } from '../failover/scenarios.js';
import type { Scenario } from '../failover/scenarios.js';
import { observeGroup, runTrials } from '../failover/trials.js';
import { processesMentioning } from './helpers.js';

const TRIALS = Number(process.env.FCM_FAILOVER_TRIALS ?? '2');
const SEED = Number(process.env.FCM_FAILOVER_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rng = new SimRng(SEED);

interface ObservedLab {
  root: string;
  lab: FailoverLab | undefined;
  observer: Observer | undefined;
}

async function startLab(fencing?: 'watchdog'): Promise<ObservedLab> {
  const started: ObservedLab = { root: await mkdtemp(join(tmpdir(), 'fcm-e2e-failover-scenarios-')), lab: undefined, observer: undefined };
  try {
    started.lab = await FailoverLab.up(started.root, { nodes: 3, fencing });
    started.observer = await observeGroup(started.lab, 'g');
    return started;
  } catch (err) {
    await started.lab?.down();
    await rm(started.root, { recursive: true, force: true });
    throw err;
  }
}

/** `fcm lab down`, then: nothing of the lab left, and never dual-active over the lab's whole life. */
async function stopLab({ root, lab, observer }: ObservedLab): Promise<void> {
  try {
    if (lab === undefined) return;
    const verdicts = observer?.judge() ?? [];
    await lab.down();
    assert.deepEqual(processesMentioning(lab.dir), [], 'no lab process is left');
    // Looked for before the observer closes: closing it would make a leftover resource exit by itself.
    if (observer !== undefined) assert.deepEqual(processesMentioning(observer.socketPath), [], 'no observed resource is left');
    const mount = await findCgroup2Mount();
    const left = [];
    for (const node of lab.nodes) if (mount !== null && (await stat(join(mount, 'fcm', node.id)).then(() => true, () => false))) left.push(node.name);
    assert.deepEqual(left, [], 'no cgroup of the lab\'s nodes is left');
    assert.deepEqual(verdicts.flatMap((v) => v.dualActive.map(describeDualActive)), [], 'never dual-active over the whole run');
  } finally {
    await observer?.close();
    await rm(root, { recursive: true, force: true });
  }
}

async function trials(t: TestContext, { lab, observer }: ObservedLab, scenario: Scenario): Promise<void> {
  if (lab === undefined || observer === undefined) throw new Error('no lab');
  const unavailable = await scenario.unavailable(lab);
  if (unavailable !== null) {
    t.skip(unavailable);
    return;
  }
  t.diagnostic(`seed ${SEED} (FCM_FAILOVER_SEED replays the choices; the lab's timing is its own)`);
  const report = await runTrials({ lab, observer, group: 'g', scenarios: [scenario], kinds: ['follower', 'leader'], trials: TRIALS, rng, log: (line) => t.diagnostic(line) });
  for (const s of report.summaries) {
    assert.deepEqual(s.dualActiveDetails, [], `${s.scenario}/${s.kind} was dual-active (seed ${SEED})`);
    assert.deepEqual(s.errors, [], `${s.scenario}/${s.kind} did not end Online on one node (seed ${SEED})`);
    assert.equal(s.trials, TRIALS);
  }
  for (const r of report.records) assert.ok(r.newOwner !== null, `${r.scenario}/${r.kind} trial ${r.trial} ends with an owner`);
}

let plain: ObservedLab | undefined;

before(async () => {
  assert.ok(Number.isInteger(TRIALS) && TRIALS >= 1, `FCM_FAILOVER_TRIALS: expected a positive integer, got ${process.env.FCM_FAILOVER_TRIALS}`);
  assert.ok(Number.isInteger(SEED), `FCM_FAILOVER_SEED: expected an integer, got ${process.env.FCM_FAILOVER_SEED}`);
  plain = await startLab();
});

after(async () => {
  if (plain !== undefined) await stopLab(plain);
});

const describe = (s: Scenario): string => `${s.name}: follower- and leader-owned, ${TRIALS} trials each, never dual-active, ends Online on one node`;

for (const scenario of SCENARIOS.filter((s) => s.name !== 'stop-all')) {
  test(describe(scenario), async (t) => trials(t, plain as ObservedLab, scenario));
}

const stopAll = SCENARIOS.find((s) => s.name === 'stop-all') as Scenario;
test(`${describe(stopAll)} (a lab with --fencing watchdog)`, async (t) => {
  if (!(await FailoverLab.offersFencing())) {
    t.skip('needs `fcm lab up --fencing watchdog`, and this fcm lab up has no --fencing option');
    return;
  }
  const fenced = await startLab('watchdog');
  try {
    await trials(t, fenced, stopAll);
  } finally {
    await stopLab(fenced);
  }
});
