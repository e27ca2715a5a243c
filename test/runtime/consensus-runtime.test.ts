// The runtime shell with the real core, the real on-disk store and the real
// cluster database: three nodes in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRaftConfig } from '../../src/agent/consensus/config.js';
import type { Membership, NodeId } from '../../src/agent/consensus/types.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';
import { ConsensusRuntime, RuntimeError } from '../../src/agent/runtime/consensus-runtime.js';
import { DatabaseStateMachine } from '../../src/agent/runtime/database-state-machine.js';
import { InProcessNetwork } from '../../src/agent/runtime/in-process-transport.js';
import { LogStore } from '../../src/agent/store/log-store.js';

const IDS: NodeId[] = ['n1', 'n2', 'n3'];
const membership: Membership = { members: IDS.map((id) => ({ id, incarnation: `${id}-i`, kind: 'node', role: 'voter' })) };

interface Running { id: NodeId; runtime: ConsensusRuntime; store: LogStore; machine: DatabaseStateMachine }

async function start(root: string, network: InProcessNetwork, id: NodeId): Promise<Running> {
  const { store, restored } = await LogStore.open(join(root, id));
  const machine = new DatabaseStateMachine(new ClusterDatabase());
  const runtime = new ConsensusRuntime({
    id, clusterId: 'test', incarnation: `${id}-i`, config: defaultRaftConfig, store, restored,
    transport: network.endpoint(id), stateMachine: machine, bootstrap: membership, snapshotEveryEntries: 25,
  });
  return { id, runtime, store, machine };
}

async function stop(node: Running): Promise<void> {
  await node.runtime.stop();
  await node.store.close();
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  for (let waited = 0; waited < timeoutMs; waited += 10) {
    const value = probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const setRtt = (ms: number, seq: number): string =>
  encodeCommand({ cmd: { type: 'property.set', values: { historyLimit: 1000 + ms } }, actor: 'test', at: 1_700_000_000_000 + seq, requestId: `r${seq}` });

test('three nodes replicate, survive a restart of all of them, and agree', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fcm-runtime-'));
  let network = new InProcessNetwork();
  let nodes = await Promise.all(IDS.map((id) => start(root, network, id)));
  try {
    const leader = await until('a leader', () => nodes.find((n) => n.runtime.status().role === 'leader'));
    for (let i = 1; i <= 60; i++) await leader.runtime.propose(setRtt(i, i));
    const target = leader.runtime.status().commitIndex;
    await until('all applied', () => nodes.every((n) => n.machine.db.appliedIndex >= target - 1 && n.runtime.status().appliedIndex >= target));
    const hashes = new Set(nodes.map((n) => n.machine.db.stateHash()));
    assert.equal(hashes.size, 1, 'identical applied state everywhere');
    assert.equal(leader.machine.db.getProperties().historyLimit, 1060);

    // A follower refuses proposals and names the leader.
    const follower = nodes.find((n) => n !== leader) as Running;
    await assert.rejects(follower.runtime.propose(setRtt(1, 999)), (err: unknown) =>
      err instanceof RuntimeError && err.code === 'E_NOT_LEADER' && err.leader === leader.id);

    // Stop everything (as after a power cut of all nodes, minus unsynced data) and start again.
    await Promise.all(nodes.map(stop));
    network = new InProcessNetwork();
    nodes = await Promise.all(IDS.map((id) => start(root, network, id)));
    const newLeader = await until('a leader after restart', () => nodes.find((n) => n.runtime.status().role === 'leader'), 8_000);
    await newLeader.runtime.propose(setRtt(61, 61));
    await until('restart applied', () => nodes.every((n) => n.machine.db.getProperties().historyLimit === 1061));
    const history = newLeader.machine.db.history({ limit: 1000 });
    assert.ok(history.some((h) => h.requestId === 'r60'), 'committed history survived the restart');
    assert.equal(new Set(nodes.map((n) => n.machine.db.stateHash())).size, 1);
  } finally {
    await Promise.all(nodes.map(stop));
    await rm(root, { recursive: true, force: true });
  }
});

test('a follower that was away while the others compacted is brought back by a snapshot, read in steps, and agrees', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fcm-runtime-'));
  const network = new InProcessNetwork();
  const nodes = await Promise.all(IDS.map((id) => start(root, network, id)));
  let away: Running | undefined;
  try {
    const leader = await until('a leader', () => nodes.find((n) => n.runtime.status().role === 'leader'));
    away = nodes.find((n) => n !== leader) as Running;
    await stop(away);
    nodes.splice(nodes.indexOf(away), 1);
    // 400 audit records: a snapshot of many 32 KiB steps, written on the leader while proposals go on.
    await Promise.all(Array.from({ length: 400 }, (_, i) => leader.runtime.propose(setRtt(i + 1, i + 1))));
    await until('the others compacted', () => nodes.every((n) => n.runtime.status().snapshotIndex >= 300));
    const back = await start(root, network, away.id);
    nodes.push(back);
    away = undefined;
    const target = leader.runtime.status().commitIndex;
    await until('every node applied all', () => nodes.every((n) => n.runtime.status().appliedIndex >= target && n.machine.db.appliedIndex >= target - 1));
    assert.ok(back.runtime.status().snapshotIndex >= 300, `installed a snapshot: ${back.runtime.status().snapshotIndex}`);
    assert.equal(new Set(nodes.map((n) => n.machine.db.stateHash())).size, 1, 'identical applied state everywhere');
    assert.equal(back.machine.db.history({ limit: 1000 }).length, 400, 'every command, none twice');
  } finally {
    await Promise.all(nodes.map(stop));
    await rm(root, { recursive: true, force: true });
  }
});
