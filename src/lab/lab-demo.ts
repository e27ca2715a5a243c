// `fcm lab demo`: a group failing over on the lab, as an administrator
// would do it by hand. A group with one `process` resource is created (or
// reused) and brought Online; its owner's agent is SIGKILLed like a crash;
// the group is watched, on a surviving node, until it is Online elsewhere;
// the killed node is started again. Every call goes to a node's API socket
// directly, so the kill never cuts the demo's own connection.
import { performance } from 'node:perf_hooks';
import { ApiCallError } from '../client/agent-client.js';
import type { GroupView } from '../client/api.js';
import { pollUntil } from '../client/poll.js';
import { UnixSocketClient } from '../client/unix-socket-client.js';
import { findLabNode, isRunning, killNode, startNode } from './lab-control.js';
import { LabError } from './lab-error.js';
import type { LabNode, LabState } from './lab-state.js';

export interface DemoStep {
  /** What the step was, in words. */
  step: string;
  /** How long it took, ms. */
  ms: number;
}

export interface DemoReport {
  group: string;
  resource: string;
  /** The owner before the crash, and after. */
  from: string;
  to: string;
  /** SIGKILL of the owner's agent → the group Online on another node, as a surviving node reports it, ms. */
  failoverMs: number;
  steps: DemoStep[];
}

export interface DemoOptions {
  group: string;
  /** How long each wait may take, ms. */
  timeoutMs: number;
  /** Progress, one line per step (the CLI shows it as a spinner label). */
  progress?: (what: string) => void;
}

/** How often the group is looked at while waiting, ms: small against a failover of ~1.5 s. */
const POLL_MS = 20;

async function clientOf(node: LabNode): Promise<UnixSocketClient> {
  return UnixSocketClient.connect(node.socketPath, { callTimeoutMs: 5_000 });
}

function waitForGroup(client: UnixSocketClient, group: string, what: string, timeoutMs: number, done: (g: GroupView) => boolean): Promise<GroupView> {
  return pollUntil(`group ${group} to be ${what}`, async () => {
    const g = await client.call('group.show', { group });
    return done(g) ? g : undefined;
  }, { timeoutMs, intervalMs: POLL_MS });
}

async function waitForNodeUp(client: UnixSocketClient, name: string, timeoutMs: number): Promise<void> {
  await pollUntil(`${name} to be Up`, async () => ((await client.call('node.list', {})).some((n) => n.name === name && n.state === 'Up') ? true : undefined),
    { timeoutMs, intervalMs: POLL_MS });
}

/** Creates the group and its resource unless they exist; a group of that name with other resources is refused. */
async function ensureDemoGroup(client: UnixSocketClient, group: string, resource: string): Promise<void> {
  try {
    await client.call('group.create', { group, settings: {} });
  } catch (err) {
    if (!(err instanceof ApiCallError && err.code === 'E_EXISTS')) throw err;
    const existing = await client.call('group.show', { group });
    if (existing.resources.some((r) => r.name !== resource)) {
      throw new LabError('E_EXISTS', `group ${group} exists with other resources`, [`name another group: fcm lab demo --group NAME`]);
    }
  }
  try {
    await client.call('resource.create', { resource, group, type: 'process', parameters: { command: 'sleep 100000' } });
  } catch (err) {
    if (!(err instanceof ApiCallError && err.code === 'E_EXISTS')) throw err;
  }
}

export async function labDemo(state: LabState, options: DemoOptions): Promise<DemoReport> {
  const { group, timeoutMs } = options;
  const resource = `${group}-app`;
  const progress = options.progress ?? (() => {});
  const steps: DemoStep[] = [];
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    progress(step);
    const started = performance.now();
    const value = await work();
    steps.push({ step, ms: Math.round(performance.now() - started) });
    return value;
  };

  const running = state.nodes.filter((n) => isRunning(n.process));
  if (running.length < 2) {
    throw new LabError('E_UNAVAILABLE', `a failover needs two running nodes; ${running.length} of ${state.nodes.length} run`, ['start them with fcm lab start NODE']);
  }
  let client = await clientOf(running[0] as LabNode);
  try {
    await timed(`create group ${group} with resource ${resource} (process: sleep 100000)`, () => ensureDemoGroup(client, group, resource));
    await client.call('group.online', { group });
    const online = await timed(`bring ${group} Online`, () => waitForGroup(client, group, 'Online', timeoutMs, (g) => g.state === 'Online' && g.owner !== null));
    const owner = findLabNode(state, online.owner as string);
    // Watch from a node that survives the crash.
    const watcher = running.find((n) => n !== owner) as LabNode;
    await client.close();
    client = await clientOf(watcher);

    const killedAt = performance.now();
    await timed(`SIGKILL ${owner.name}'s agent, as a crash`, () => killNode(state, owner));
    const moved = await timed(`wait until ${group} is Online on another node`, () => waitForGroup(client, group, `Online on a node other than ${owner.name}`, timeoutMs,
      (g) => g.state === 'Online' && g.owner !== null && g.owner !== owner.name));
    const failoverMs = Math.round(performance.now() - killedAt);
    await timed(`start ${owner.name} again; wait until every node sees every node Up`, async () => {
      await startNode(state, owner, timeoutMs);
      // `fcm status` may ask any node next, and a restarted one thinks the others Down until it hears them.
      for (const viewer of running) {
        const c = await clientOf(viewer);
        try {
          for (const node of running) await waitForNodeUp(c, node.name, timeoutMs);
        } finally {
          await c.close();
        }
      }
    });
    return { group, resource, from: owner.name, to: moved.owner as string, failoverMs, steps };
  } finally {
    await client.close();
  }
}
