import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  allocatePorts,
  clearCurrentLab,
  currentLabFile,
  labLayout,
  loadLabState,
  newLabState,
  planNodes,
  relayConfigFor,
  resolveLabDir,
  setCurrentLab,
  writeLabState,
} from '../../src/lab/lab-state.js';
import { parseRelayConfig } from '../../src/lab/relay-config.js';
import { LabError } from '../../src/lab/lab-error.js';
import { withTempDir } from './helpers.js';

const isLabError = (code: string, problems?: number) => (err: unknown) =>
  err instanceof LabError && err.code === code && (problems === undefined || err.problems.length === problems);

test('a planned lab round-trips through lab.json, written privately with no temp files left', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'lab');
    const nodes = await planNodes(dir, 3);
    assert.deepEqual(nodes.map((n) => [n.id, n.name, n.privateAddress.host, n.sourceHost, n.publicAddress.host]), [
      ['n1', 'node1', '127.0.1.1', '127.0.1.1', '127.0.0.1'],
      ['n2', 'node2', '127.0.1.2', '127.0.1.2', '127.0.0.1'],
      ['n3', 'node3', '127.0.1.3', '127.0.1.3', '127.0.0.1'],
    ]);
    const publicPorts = nodes.map((n) => n.publicAddress.port);
    assert.equal(new Set(publicPorts).size, 3);

    const state = newLabState(dir, nodes, new Date('2025-01-02T03:04:05Z'));
    state.relay.process = { pid: 4242, startTime: 99 };
    (state.nodes[1] as (typeof nodes)[number]).process = { pid: 4343, startTime: 100 };
    await writeLabState(state);
    assert.deepEqual(await loadLabState(dir), state);
    assert.equal((await stat(labLayout(dir).stateFile)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['lab.json']);

    state.nodes.pop();
    await writeLabState(state);
    assert.equal((await loadLabState(dir)).nodes.length, 2);

    const config = parseRelayConfig(relayConfigFor(state));
    assert.deepEqual(config.routes.map((r) => [r.nodeId, r.publicPort, r.targetHost]), [
      ['n1', publicPorts[0], '127.0.1.1'],
      ['n2', publicPorts[1], '127.0.1.2'],
    ]);
  });
});

test('no lab.json is E_NO_LAB; a damaged one is E_CORRUPT_STATE listing every problem', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(loadLabState(dir), isLabError('E_NO_LAB'));
    await assert.rejects(loadLabState(join(dir, 'nowhere')), isLabError('E_NO_LAB'));
    const file = labLayout(dir).stateFile;
    await writeFile(file, '{"version":1,"nodes":[');
    await assert.rejects(loadLabState(dir), isLabError('E_CORRUPT_STATE', 1));

    const state = newLabState(dir, await planNodes(dir, 1), new Date());
    const damaged = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
    damaged.version = 2;
    (damaged.nodes as Array<Record<string, unknown>>)[0] = { ...(damaged.nodes as Array<Record<string, unknown>>)[0], publicAddress: { host: '127.0.0.1', port: 70000 }, process: { pid: -1, startTime: 'x' } };
    delete (damaged.relay as Record<string, unknown>).controlSocket;
    await writeFile(file, JSON.stringify(damaged));
    await assert.rejects(loadLabState(dir), isLabError('E_CORRUPT_STATE', 5));
  });
});

test('port allocation gives distinct free ports per host; bad sizes and deep dirs are refused', async () => {
  const ports = await allocatePorts(['127.0.1.9', '127.0.1.9', '127.0.0.1']);
  assert.equal(new Set(ports).size, 3);
  for (const [i, host] of ['127.0.1.9', '127.0.1.9', '127.0.0.1'].entries()) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[i], host, resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await assert.rejects(planNodes('/tmp/x', 0), isLabError('E_INVALID'));
  await assert.rejects(planNodes('/tmp/x', 255), isLabError('E_INVALID'));
  assert.throws(() => newLabState(`/tmp/${'d'.repeat(100)}`, [], new Date()), isLabError('E_INVALID', 1));
});

test('the current lab: --lab, then FCM_LAB, then the current-lab record; clearing only forgets its own lab', async () => {
  await withTempDir(async (tmp) => {
    const env = { XDG_STATE_HOME: join(tmp, 'state') };
    const home = join(tmp, 'home');
    assert.equal(currentLabFile(env, home), join(tmp, 'state', 'fcm', 'current-lab'));
    assert.equal(currentLabFile({ XDG_STATE_HOME: 'relative' }, home), join(home, '.local', 'state', 'fcm', 'current-lab'));

    await assert.rejects(resolveLabDir(undefined, env, home), isLabError('E_NO_LAB'));
    await setCurrentLab(join(tmp, 'lab-a'), env, home);
    assert.equal(await resolveLabDir(undefined, env, home), join(tmp, 'lab-a'));
    assert.equal(await resolveLabDir(undefined, { ...env, FCM_LAB: join(tmp, 'lab-b') }, home), join(tmp, 'lab-b'));
    assert.equal(await resolveLabDir(join(tmp, 'lab-c'), { ...env, FCM_LAB: join(tmp, 'lab-b') }, home), join(tmp, 'lab-c'));

    await clearCurrentLab(join(tmp, 'lab-other'), env, home);
    assert.equal(await resolveLabDir(undefined, env, home), join(tmp, 'lab-a'));
    await clearCurrentLab(join(tmp, 'lab-a'), env, home);
    await assert.rejects(resolveLabDir(undefined, env, home), isLabError('E_NO_LAB'));

    await mkdir(join(tmp, 'state', 'fcm'), { recursive: true });
    await writeFile(currentLabFile(env, home), 'relative/path\n');
    await assert.rejects(resolveLabDir(undefined, env, home), isLabError('E_CORRUPT_STATE'));
  });
});
