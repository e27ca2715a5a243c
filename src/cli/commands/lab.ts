// fcm lab up | status | down | kill | start | cut | heal: a real cluster on
// this machine (src/lab/). --json shapes:
//   up:        {dir, relay: {pid}, nodes: [LabNodeView], cluster: ClusterStatus}
//   status:    {dir, createdAt, relay: {pid, running}, nodes: [LabNodeView], cluster: ClusterStatus | null, clusterError: {code, message} | null}
//   down:      {dir, stopped: [{name, pid, outcome}], removed}
//   kill:      {node, pid, killed}        start: {node, pid, started}
//   cut, heal: the relay's RelayNodeStatus of the node
import { ApiCallError } from '../../client/agent-client.js';
import type { ClusterStatus } from '../../client/api.js';
import { UnixSocketClient } from '../../client/unix-socket-client.js';
import { cutNode, ensureRelay, findLabNode, healNode, isRunning, killNode, labDown, openLab, relayStatus, startNode } from '../../lab/lab-control.js';
import { LabError } from '../../lab/lab-error.js';
import { clearCurrentLab, defaultLabDir, resolveLabDir } from '../../lab/lab-state.js';
import type { LabNode, LabState } from '../../lab/lab-state.js';
import { labUp } from '../../lab/lab-up.js';
import type { RelayNodeStatus } from '../../lab/relay.js';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { renderKeyValues, renderTable } from '../render.js';
import { renderClusterStatus } from './views.js';

/** How long `lab up` may take when --timeout is not given, ms: a few seconds per node on a busy 2-core machine. */
const LAB_UP_BASE_MS = 30_000;
const LAB_UP_PER_NODE_MS = 5_000;
/** How long `lab start` waits for the agent to answer, ms. */
const LAB_START_MS = 20_000;
/** How long `lab status` waits for the cluster's answer, ms. */
const STATUS_CALL_MS = 3_000;

export interface LabNodeView {
  id: string;
  name: string;
  pid: number | null;
  running: boolean;
  /** The relay's cut of this node; null when it is not cut or the relay does not answer. */
  cut: 'reset' | 'silent' | null;
  address: string;
  socket: string;
  logFile: string;
}

function nodeView(node: LabNode, links: RelayNodeStatus[] | null): LabNodeView {
  return {
    id: node.id,
    name: node.name,
    pid: node.process?.pid ?? null,
    running: isRunning(node.process),
    cut: links?.find((l) => l.node === node.id)?.cut ?? null,
    address: `${node.publicAddress.host}:${node.publicAddress.port}`,
    socket: node.socketPath,
    logFile: node.logFile,
  };
}

function renderLabNodes(nodes: readonly LabNodeView[]): string {
  return renderTable(
    ['NODE', 'LAB ID', 'AGENT', 'PID', 'LINKS', 'ADDRESS'],
    nodes.map((n) => [n.name, n.id, n.running ? 'running' : 'stopped', n.pid, n.cut === null ? 'ok' : `cut (${n.cut})`, n.address]),
  );
}

export async function labUpCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const count = invocation.options.nodes as number;
  const dir = (invocation.options.dir as string | undefined) ?? defaultLabDir();
  const timeoutMs = context.globals.timeoutMs ?? LAB_UP_BASE_MS + LAB_UP_PER_NODE_MS * count;
  const { state, cluster } = await context.spin(`starting a ${count}-node lab in ${dir}`, () =>
    labUp({ dir, nodes: count, timeoutMs, progress: (step) => context.note(step) }));
  const nodes = state.nodes.map((n) => nodeView(n, null));
  const data = { dir: state.dir, relay: { pid: state.relay.process?.pid ?? null }, nodes, cluster };
  return {
    data,
    text: () => `lab up in ${state.dir} (now the current lab; fcm lab down removes it)\n\n${renderClusterStatus(cluster)}`,
  };
}

export async function labStatusCommand(context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const links = await relayStatus(state).catch(() => null);
  const nodes = state.nodes.map((n) => nodeView(n, links));
  const { cluster, clusterError } = await clusterView(state);
  const relayRunning = isRunning(state.relay.process);
  const data = { dir: state.dir, createdAt: state.createdAt, relay: { pid: state.relay.process?.pid ?? null, running: relayRunning }, nodes, cluster, clusterError };
  return {
    data,
    text: () => {
      const head = renderKeyValues([
        ['lab', state.dir],
        ['created', state.createdAt],
        ['relay', relayRunning ? `running (pid ${state.relay.process?.pid})` : 'NOT RUNNING: nodes cannot reach each other'],
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
  const result = await context.spin(`starting ${node.name}'s agent`, () => startNode(state, node, context.globals.timeoutMs ?? LAB_START_MS));
  const data = { node: result.node, pid: result.pid, started: result.started };
  return { data, text: result.started ? `started ${result.node}'s agent (pid ${result.pid})` : `${result.node}'s agent is running already (pid ${result.pid})` };
}

export async function labCutCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const mode = invocation.options.silent === true ? 'silent' : 'reset';
  const status = await cutNode(state, findLabNode(state, invocation.args[0] as string), mode);
  const how = mode === 'silent' ? 'its links carry nothing, as if packets were dropped' : 'its links to the other nodes are reset';
  return { data: status, text: `${invocation.args[0] as string} cut off (${mode}): ${how}; fcm lab heal reconnects it` };
}

export async function labHealCommand(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const state = await openLab(context.globals.lab);
  const status = await healNode(state, findLabNode(state, invocation.args[0] as string));
  return { data: status, text: `${invocation.args[0] as string} reconnected` };
}
