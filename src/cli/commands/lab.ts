// fcm lab up | status | down | kill | start | cut | heal: a real cluster on
// this machine (src/lab/). --json shapes:
//   up:        {dir, relay: {pid}, watchdog: {pid, timeoutMs} | null, nodes: [LabNodeView], cluster: ClusterStatus}
//   status:    {dir, createdAt, relay: {pid, running}, watchdog: {pid, running, timeoutMs} | null, nodes: [LabNodeView],
//               cluster: ClusterStatus | null, clusterError: {code, message} | null}
//   (watchdog null: fencing none; LabNodeView.watchdog: {state, resets} | null)
//   down:      {dir, stopped: [{name, pid, outcome}], removed}
//   kill:      {node, pid, killed}        start: {node, pid, started}
//   cut, heal: the relay's RelayNodeStatus of the node (nodes by lab id: cutFrom ["n2"])
//   demo:      {group, resource, from, to, failoverMs, steps: [{step, ms}]}
import { ApiCallError } from '../../client/agent-client.js';
import type { ClusterStatus } from '../../client/api.js';
import { UnixSocketClient } from '../../client/unix-socket-client.js';
import { cutNode, ensureRelay, ensureWatchdog, findLabNode, healNode, isRunning, killNode, labDown, openLab, relayStatus, startNode } from '../../lab/lab-control.js';
import { LabError } from '../../lab/lab-error.js';
import { clearCurrentLab, defaultLabDir, resolveLabDir } from '../../lab/lab-state.js';
import type { LabNode, LabState } from '../../lab/lab-state.js';
import { labDemo } from '../../lab/lab-demo.js';
import { labUp } from '../../lab/lab-up.js';
import type { RelayNodeStatus } from '../../lab/relay.js';
import type { WatchdogState } from '../../lab/watchdog.js';
import type { WatchdogStatusFile } from '../../lab/watchdog-config.js';
import { readWatchdogStatus } from '../../lab/watchdog-process.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { renderKeyValues, renderTable } from '../render.js';
import { renderClusterStatus } from './views.js';

/** How long `lab up` may take when --timeout is not given, ms: a few seconds per node on a busy 2-core machine. */
const LAB_UP_BASE_MS = 30_000;
const LAB_UP_PER_NODE_MS = 5_000;
/** How long `lab start` waits for the agent to answer, ms. */
const LAB_START_MS = 20_000;
/** How long each of `lab demo`'s waits may take, ms. */
const LAB_DEMO_WAIT_MS = 30_000;
/** How long `lab status` waits for the cluster's answer, ms. */
const STATUS_CALL_MS = 3_000;

export interface LabNodeView {
  id: string;
  name: string;
  pid: number | null;
  running: boolean;
  /** The relay's whole-node cut of this node; null when it is not cut or the relay does not answer. */
  cut: 'reset' | 'silent' | null;
  /** Names of the nodes this one is cut from by pair cuts (`lab cut --from`), sorted. */
  cutFrom: string[];
  address: string;
  socket: string;
  logFile: string;
  /** Its emulated watchdog as the emulator last wrote it (null: fencing none); `unknown` before the emulator wrote anything. */
  watchdog: { state: WatchdogState | 'unknown'; resets: number } | null;
}

function nodeView(node: LabNode, links: RelayNodeStatus[] | null, watchdogs: WatchdogStatusFile | null = null): LabNodeView {
  const watchdog = watchdogs?.nodes.find((w) => w.id === node.id);
  return {
    id: node.id,
    name: node.name,
    pid: node.process?.pid ?? null,
    running: isRunning(node.process),
    cut: links?.find((l) => l.node === node.id)?.cut ?? null,
    cutFrom: links?.find((l) => l.node === node.id)?.cutFrom ?? [],
    address: `${node.publicAddress.host}:${node.publicAddress.port}`,
    socket: node.socketPath,
    logFile: node.logFile,
    watchdog: node.watchdog === undefined ? null : { state: watchdog?.state ?? 'unknown', resets: watchdog?.resets ?? 0 },
  };
}

function watchdogText(n: LabNodeView): string {
  if (n.watchdog === null) return '-';
  const { state, resets } = n.watchdog;
  return resets === 0 ? state : `${state}, ${resets} reset${resets === 1 ? '' : 's'}`;
}

/** The relay names nodes by lab id (n2); the views name them as the cluster does (node2). */
function withNames(state: LabState, links: RelayNodeStatus[] | null): RelayNodeStatus[] | null {
  const nameOf = (id: string): string => state.nodes.find((n) => n.id === id)?.name ?? id;
  return links?.map((l) => ({ ...l, cutFrom: l.cutFrom.map(nameOf).sort() })) ?? null;
}

function linksText(n: LabNodeView): string {
  const cuts = [...(n.cut === null ? [] : [`cut (${n.cut})`]), ...(n.cutFrom.length === 0 ? [] : [`cut from ${n.cutFrom.join(', ')}`])];
  return cuts.length === 0 ? 'ok' : cuts.join('; ');
}

function renderLabNodes(nodes: readonly LabNodeView[]): string {
  // The WATCHDOG column only in a lab with --fencing watchdog.
  const fenced = nodes.some((n) => n.watchdog !== null);
  return renderTable(
    ['NODE', 'LAB ID', 'AGENT', 'PID', 'LINKS', ...(fenced ? ['WATCHDOG'] : []), 'ADDRESS'],
    nodes.map((n) => [n.name, n.id, n.running ? 'running' : 'stopped', n.pid, linksText(n), ...(fenced ? [watchdogText(n)] : []), n.address]),
  );
}

export async function labUpCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const count = invocation.options.nodes as number;
  // --lab / $FCM_LAB name the lab every other command talks to: with no --dir, that is where it goes.
  const dir = (invocation.options.dir as string | undefined) ?? context.globals.lab ?? defaultLabDir();
  const timeoutMs = context.globals.timeoutMs ?? LAB_UP_BASE_MS + LAB_UP_PER_NODE_MS * count;
  const fencing = invocation.options.fencing === 'watchdog' ? 'watchdog' : 'none';
  const watchdogTimeoutMs = invocation.options.watchdogTimeoutMs as number | undefined;
  const { state, cluster } = await context.spin(`starting a ${count}-node lab in ${dir}`, () =>
    labUp({ dir, nodes: count, timeoutMs, fencing, ...(watchdogTimeoutMs === undefined ? {} : { watchdogTimeoutMs }), progress: (step) => context.note(step) }));
  const nodes = state.nodes.map((n) => nodeView(n, null));
  const watchdog = state.watchdog === undefined ? null : { pid: state.watchdog.process?.pid ?? null, timeoutMs: state.watchdog.timeoutMs };
  const data = { dir: state.dir, relay: { pid: state.relay.process?.pid ?? null }, watchdog, nodes, cluster };
  const fenced = watchdog === null ? '' : `; fencing by emulated watchdogs, T_wd ${watchdog.timeoutMs} ms`;
  return {
    data,
    text: () => `lab up in ${state.dir} (now the current lab; fcm lab down removes it)${fenced}\n\n${renderClusterStatus(cluster)}`,
  };
}

export async function labStatusCommand(context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const links = withNames(state, await relayStatus(state).catch(() => null));
  const watchdogs = state.watchdog === undefined ? null : await readWatchdogStatus(state.watchdog.statusFile);
  const nodes = state.nodes.map((n) => nodeView(n, links, watchdogs));
  const { cluster, clusterError } = await clusterView(state);
  const relayRunning = isRunning(state.relay.process);
  const watchdog = state.watchdog === undefined ? null
    : { pid: state.watchdog.process?.pid ?? null, running: isRunning(state.watchdog.process), timeoutMs: state.watchdog.timeoutMs };
  const data = { dir: state.dir, createdAt: state.createdAt, relay: { pid: state.relay.process?.pid ?? null, running: relayRunning }, watchdog, nodes, cluster, clusterError };
  return {
    data,
    text: () => {
      const head = renderKeyValues([
        ['lab', state.dir],
        ['created', state.createdAt],
        ['relay', relayRunning ? `running (pid ${state.relay.process?.pid})` : 'NOT RUNNING: nodes cannot reach each other'],
        ['watchdog', watchdog === null ? 'none (fencing none)'
          : watchdog.running ? `running (pid ${watchdog.pid}), T_wd ${watchdog.timeoutMs} ms`
            : 'NOT RUNNING: guards cannot open their watchdogs (fcm lab start starts it)'],
      ]);
      const view = cluster === null ? `cluster: no answer (${clusterError?.message ?? 'no agent running'})\n` : renderClusterStatus(cluster);
      return `${head}\n${renderLabNodes(nodes)}\n${view}`;
    },
  };
}

/** The cluster as the first running node sees it. */
async function clusterView(state: LabState): Promise<{ cluster: ClusterStatus | null; clusterError: { code: string; message: string } | null }> {
  let lastError = { code: 'E_UNAVAILABLE', message: 'no lab agent is running' };
  for (const node of state.nodes.filter((n) => isRunning(n.process))) {
    let client: UnixSocketClient | undefined;
    try {
      client = await UnixSocketClient.connect(node.socketPath, { callTimeoutMs: STATUS_CALL_MS });
      return { cluster: await client.call('cluster.status', {}), clusterError: null };
    } catch (err) {
      if (!(err instanceof ApiCallError)) throw err;
      lastError = { code: err.code, message: `${node.name}: ${err.message}` };
    } finally {
      await client?.close();
    }
  }
  return { cluster: null, clusterError: lastError };
}

export async function labDownCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const keep = invocation.options.keep === true;
  let state: LabState;
  try {
    state = await openLab(context.globals.lab);
  } catch (err) {
    if (!(err instanceof LabError && err.code === 'E_NO_LAB') || context.globals.lab !== undefined) throw err;
    // The current-lab record names a lab that is gone: forget the record, so the next command does not trip on it.
    const dir = await resolveLabDir(undefined).catch(() => undefined);
    if (dir === undefined) throw err;
    await clearCurrentLab(dir);
    context.warn(`no lab in ${dir} any more; forgot it as the current lab`);
    return { data: { dir, stopped: [], removed: false }, text: '' };
  }
  const report = await context.spin(`stopping the lab in ${state.dir}`, () => labDown(state, keep));
  const stopped = report.stopped.filter((s) => s.outcome !== 'not-running' && s.outcome !== 'already-gone').map((s) => s.name);
  return {
    data: report,
    text: `lab in ${report.dir} stopped (${stopped.length === 0 ? 'nothing was running' : stopped.join(', ')})${report.removed ? ' and removed' : '; its files are kept'}`,
  };
}

export async function labKillCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const result = await killNode(state, findLabNode(state, invocation.args[0] as string));
  return { data: result, text: result.killed ? `killed ${result.node}'s agent (pid ${result.pid}) with SIGKILL` : `${result.node}'s agent was not running` };
}

export async function labStartCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const node = findLabNode(state, invocation.args[0] as string);
  // The nodes reach each other only through the relay: a kept lab needs it again.
  if (await ensureRelay(state)) context.warn('the lab\'s relay was not running; started it again');
  // The node's guard cannot open its watchdog while no emulator reads it.
  if (await ensureWatchdog(state)) context.warn('the lab\'s watchdog emulator was not running; started it again');
  const result = await context.spin(`starting ${node.name}'s agent`, () => startNode(state, node, context.globals.timeoutMs ?? LAB_START_MS));
  const data = { node: result.node, pid: result.pid, started: result.started };
  return { data, text: result.started ? `started ${result.node}'s agent (pid ${result.pid})` : `${result.node}'s agent is running already (pid ${result.pid})` };
}

/** The node named by the argument and the peer named by --from, if any. */
function cutEnds(state: LabState, invocation: Invocation): { node: LabNode; peer: LabNode | undefined } {
  const from = invocation.options.from as string | undefined;
  const node = findLabNode(state, invocation.args[0] as string);
  const peer = from === undefined ? undefined : findLabNode(state, from);
  if (peer === node) throw new LabError('E_INVALID', `--from names ${node.name} itself`, ['a pair cut is between two different nodes']);
  return { node, peer };
}

export async function labCutCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const mode = invocation.options.silent === true ? 'silent' : 'reset';
  const { node, peer } = cutEnds(state, invocation);
  const status = await cutNode(state, node, mode, peer);
  if (peer !== undefined) {
    const how = mode === 'silent' ? 'the links between them carry nothing, as if packets were dropped' : 'the links between them are reset';
    return {
      data: status,
      text: `${node.name} cut from ${peer.name} (${mode}): ${how}, their other links pass; fcm lab heal ${node.name} --from ${peer.name} reconnects them`,
    };
  }
  const how = mode === 'silent' ? 'its links carry nothing, as if packets were dropped' : 'its links to the other nodes are reset';
  return { data: status, text: `${node.name} cut off (${mode}): ${how}; fcm lab heal ${node.name} reconnects it` };
}

export async function labHealCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const { node, peer } = cutEnds(state, invocation);
  const status = await healNode(state, node, peer);
  if (peer === undefined) return { data: status, text: `${node.name} reconnected (its whole cut and every pair cut involving it lifted)` };
  // A pair heal leaves a whole-node cut in place: say so rather than let "reconnected" mislead.
  const still = status.cut === null ? '' : `; ${node.name} is still cut off from every node (fcm lab heal ${node.name} lifts that)`;
  return { data: status, text: `${node.name} reconnected to ${peer.name}${still}` };
}

export async function labDemoCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const group = (invocation.options.group as string | undefined) ?? 'demo';
  const report = await context.spin('failover demo', () => labDemo(state, { group, timeoutMs: context.globals.timeoutMs ?? LAB_DEMO_WAIT_MS, progress: (step) => context.note(step) }));
  const lines = report.steps.map((s) => `  ${s.step} (${s.ms} ms)`);
  return {
    data: report,
    text: `${lines.join('\n')}\n${group} failed over from ${report.from} to ${report.to} in ${report.failoverMs} ms (SIGKILL of ${report.from}'s agent to Online on ${report.to}); fcm status shows it`,
  };
}
