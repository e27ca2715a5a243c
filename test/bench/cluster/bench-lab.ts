// A lab for the cluster benchmark, started and stopped with the real CLI
// (`fcm lab up --nodes 3 --dir DIR`, `fcm lab down`) in a private
// environment (XDG dirs, FCM_LAB), so nothing of the user's is touched.
// Agents are asked directly on their API sockets; the lab's own record
// (lab.json) gives each node's SSH address and state directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStatus } from '../../../src/client/api.js';
import { UnixSocketClient } from '../../../src/client/unix-socket-client.js';
import { stopLabProcesses } from '../../../src/lab/lab-control.js';
import { labLayout, loadLabState } from '../../../src/lab/lab-state.js';
import { fcmJson, runFcm } from './fcm-cli.js';

export interface BenchNode {
  /** The cluster name (node1): what `fcm lab kill|start` and --via take. */
  name: string;
  socket: string;
  /** The agent's own SSH server (no relay in between), as an admin reaches a real node. */
  ssh: { host: string; port: number };
  /** The node's registered address (`fcm node add` takes it). */
  address: string;
  stateDir: string;
}

export class BenchLab {
  private constructor(readonly dir: string, readonly env: NodeJS.ProcessEnv, readonly nodes: BenchNode[]) {}

  /** `fcm lab up --nodes N --dir <root>/<name>`; resolves with the lab and the command's wall time, ms. */
  static async up(root: string, name: string, nodes: number): Promise<{ lab: BenchLab; ms: number }> {
    const dir = join(root, name);
    const env = { ...process.env, XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), FCM_LAB: dir, SSH_AUTH_SOCK: '' };
    const { ms } = await fcmJson(env, ['lab', 'up', '--nodes', String(nodes), '--dir', dir], 120_000);
    const state = await loadLabState(dir);
    const benchNodes = state.nodes.map((n) => ({
      name: n.name,
      socket: n.socketPath,
      ssh: n.privateAddress,
      address: `${n.publicAddress.host}:${n.publicAddress.port}`,
      stateDir: n.stateDir,
    }));
    return { lab: new BenchLab(dir, env, benchNodes), ms };
  }

  get adminKeyFile(): string {
    return labLayout(this.dir).adminKey;
  }

  node(name: string): BenchNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no lab node ${name}`);
    return node;
  }

  /** `fcm lab down`; if the CLI fails, every process in lab.json is stopped by its PID. */
  async down(): Promise<void> {
    if (!existsSync(labLayout(this.dir).stateFile)) return;
    const run = await runFcm(this.env, ['lab', 'down', '--json']);
    if (run.status === 0) return;
    process.stderr.write(`cluster: fcm lab down exited ${run.status}: ${run.err}; stopping the lab's processes by PID\n`);
    await stopLabProcesses(await loadLabState(this.dir));
  }

  connect(node: BenchNode, callTimeoutMs = 10_000): Promise<UnixSocketClient> {
    return UnixSocketClient.connect(node.socket, { callTimeoutMs });
  }

  /** One agent.status over a fresh connection. */
  async status(node: BenchNode): Promise<AgentStatus> {
    const client = await this.connect(node, 5_000);
    try {
      return await client.call('agent.status', {});
    } finally {
      await client.close();
    }
  }

  async statuses(): Promise<{ node: BenchNode; status: AgentStatus }[]> {
    return Promise.all(this.nodes.map(async (node) => ({ node, status: await this.status(node) })));
  }

  /**
   * Waits until one node leads and every node follows it with everything
   * the leader had committed when first seen applied: a quiet cluster.
   */
  async settled(timeoutMs = 30_000): Promise<{ leader: BenchNode; status: AgentStatus; all: { node: BenchNode; status: AgentStatus }[] }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let problem: string;
      try {
        const all = await this.statuses();
        const leader = all.find((s) => s.status.role === 'leader');
        if (leader === undefined) problem = 'no leader';
        else {
          const behind = all.filter((s) => s.status.leader?.id !== leader.status.identity.nodeId || s.status.appliedIndex < leader.status.commitIndex);
          if (behind.length === 0) return { leader: leader.node, status: leader.status, all };
          problem = `${behind.map((s) => s.node.name).join(', ')} not caught up with ${leader.node.name}`;
        }
      } catch (err) {
        problem = (err as Error).message;
      }
      if (performance.now() > deadline) throw new Error(`the lab did not settle within ${timeoutMs} ms: ${problem}`);
      await sleep(50);
    }
  }
}
