// lab up when a port is taken between allocation and bind: it starts again
// with other ports; when every attempt fails it stops what it started,
// removes what it made and reports the agents' logs. Real agents and relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown } from '../../src/lab/lab-control.js';
import { LabError } from '../../src/lab/lab-error.js';
import { loadLabState, planNodes, resolveLabDir } from '../../src/lab/lab-state.js';
import type { LabNode } from '../../src/lab/lab-state.js';
import { labUp } from '../../src/lab/lab-up.js';
import { processesMentioning } from './helpers.js';

/** Holds node1's private port, as another program could between allocation and bind. */
async function occupy(node: LabNode): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(node.privateAddress.port, node.privateAddress.host, resolve);
  });
  return server;
}

async function withTemp<T>(use: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), 'fcm-labup-'));
  try {
    return await use(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

test('a port taken between allocation and bind: lab up starts again with other ports', async () => {
  await withTemp(async (tmp) => {
    const dir = join(tmp, 'lab');
    const env = { XDG_STATE_HOME: join(tmp, 'state') };
    const blockers: Server[] = [];
    let plans = 0;
    const plan = async (d: string, count: number): Promise<LabNode[]> => {
      const nodes = await planNodes(d, count);
      if (++plans === 1) blockers.push(await occupy(nodes[0] as LabNode));
      return nodes;
    };
    try {
      const { state, cluster } = await labUp({ dir, nodes: 1, timeoutMs: 60_000, plan, env, home: tmp });
      assert.equal(plans, 2);
      assert.equal(cluster.leader?.name, 'node1');
      assert.notEqual(state.nodes[0]?.privateAddress.port, (blockers[0]?.address() as { port: number }).port);
      assert.equal(await resolveLabDir(undefined, env, tmp), dir, 'it is the current lab');
      await labDown(await loadLabState(dir), false, env, tmp);
      assert.deepEqual(processesMentioning(dir), []);
    } finally {
      for (const blocker of blockers) blocker.close();
      if (existsSync(join(dir, 'lab.json'))) await labDown(await loadLabState(dir), false, env, tmp);
    }
  });
});

test('every attempt fails: nothing is left running or on disk, and the error carries the agent\'s log', async () => {
  await withTemp(async (tmp) => {
    const dir = join(tmp, 'lab');
    const blockers: Server[] = [];
    const plan = async (d: string, count: number): Promise<LabNode[]> => {
      const nodes = await planNodes(d, count);
      blockers.push(await occupy(nodes[0] as LabNode));
      return nodes;
    };
    try {
      await assert.rejects(labUp({ dir, nodes: 2, timeoutMs: 60_000, plan, env: { XDG_STATE_HOME: join(tmp, 'state') }, home: tmp }), (err: unknown) => {
        assert.ok(err instanceof LabError, String(err));
        assert.equal(err.code, 'E_ADDRESS_IN_USE');
        assert.match(err.message, /--- node1 \(.*agent\.log\) ends with:\n.*EADDRINUSE/s);
        return true;
      });
      assert.equal(blockers.length, 3, 'three attempts');
      assert.deepEqual(processesMentioning(dir), []);
      assert.equal(existsSync(dir), false);
      assert.deepEqual(await readdir(tmp), [], 'not made the current lab');
    } finally {
      for (const blocker of blockers) blocker.close();
    }
  });
});
