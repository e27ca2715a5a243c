// Which agent a command talks to: --host, then the lab (--lab, FCM_LAB, the
// current lab), then the local socket. The lab lookup reads real lab state
// files in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiCallError } from '../../src/client/agent-client.js';
import { DEFAULT_AGENT_SOCKET, DEFAULT_AGENT_SSH_PORT, parseSshTarget, resolveAddressTarget, resolveTarget } from '../../src/client/target.js';
import type { LabLookup, LabNodeTarget, Target } from '../../src/client/target.js';
import { LabError } from '../../src/lab/lab-error.js';
import { labLookup } from '../../src/lab/lab-target.js';
import { newLabState, planNodes, setCurrentLab, writeLabState } from '../../src/lab/lab-state.js';

const NODES: LabNodeTarget[] = [
  { id: 'n1', name: 'node1', socket: '/lab/node1/agent.sock', address: '127.0.0.1:40001' },
  { id: 'n2', name: 'node2', socket: '/lab/node2/agent.sock', address: '127.0.0.1:40002' },
];
const LAB: LabLookup = async () => ({ dir: '/lab', nodes: NODES });
const NO_LAB: LabLookup = async () => undefined;

test('SSH targets: [user@]host[:port], the agent port by default', () => {
  const cases: Array<[string, Omit<Target & { kind: 'ssh' }, 'kind'>]> = [
    ['10.0.0.11', { host: '10.0.0.11', port: DEFAULT_AGENT_SSH_PORT, user: undefined }],
    ['admin@10.0.0.11:2222', { host: '10.0.0.11', port: 2222, user: 'admin' }],
    ['node-1.example.com', { host: 'node-1.example.com', port: DEFAULT_AGENT_SSH_PORT, user: undefined }],
    ['[fd00::1]:7000', { host: 'fd00::1', port: 7000, user: undefined }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseSshTarget(text), { kind: 'ssh', ...expected }, text);
  for (const bad of ['', 'host:', 'host:0', 'host:70000', 'a b', '@host', 'host:22:33', '-host']) {
    assert.throws(() => parseSshTarget(bad), (err: unknown) => err instanceof ApiCallError && err.code === 'E_USAGE', bad);
  }
});

test('the order: --host, then a lab (--via picks a node), then FCM_SOCKET, then the default socket', async () => {
  const none = { host: undefined, lab: undefined, via: undefined };
  assert.deepEqual(await resolveTarget({ ...none, host: 'n1:7000' }, LAB), { kind: 'ssh', host: 'n1', port: 7000, user: undefined });
  assert.deepEqual(await resolveTarget(none, LAB), { kind: 'lab', dir: '/lab', nodes: NODES, via: undefined });
  assert.deepEqual(await resolveTarget({ ...none, via: 'node2' }, LAB), { kind: 'lab', dir: '/lab', nodes: NODES, via: 'node2' });
  assert.deepEqual(await resolveTarget({ ...none, via: 'n2' }, LAB), { kind: 'lab', dir: '/lab', nodes: NODES, via: 'n2' });
  assert.deepEqual(await resolveTarget(none, NO_LAB, {}), { kind: 'socket', path: DEFAULT_AGENT_SOCKET });
  assert.deepEqual(await resolveTarget(none, NO_LAB, { FCM_SOCKET: '/tmp/x/agent.sock' }), { kind: 'socket', path: '/tmp/x/agent.sock' });
});

test('--via must name a lab node, and needs a lab; it does not combine with --host', async () => {
  const none = { host: undefined, lab: undefined, via: undefined };
  await assert.rejects(resolveTarget({ ...none, via: 'node9' }, LAB), (err: unknown) =>
    err instanceof ApiCallError && err.code === 'E_NOT_FOUND' && /node1, node2/.test(err.hint ?? ''));
  await assert.rejects(resolveTarget({ ...none, via: 'node1' }, NO_LAB, {}), (err: unknown) => err instanceof ApiCallError && err.code === 'E_USAGE');
  await assert.rejects(resolveTarget({ ...none, host: 'h', via: 'node1' }, LAB), (err: unknown) => err instanceof ApiCallError && err.code === 'E_USAGE');
});

test('another node by address: the lab node there, else SSH; with --host always SSH', async () => {
  const none = { host: undefined, lab: undefined, via: undefined };
  assert.deepEqual(await resolveAddressTarget('127.0.0.1:40002', none, LAB), { kind: 'lab', dir: '/lab', nodes: NODES, via: 'n2' });
  assert.deepEqual(await resolveAddressTarget('127.0.0.1:40009', none, LAB), { kind: 'ssh', host: '127.0.0.1', port: 40009, user: undefined });
  assert.deepEqual(await resolveAddressTarget('127.0.0.1:40002', { ...none, host: 'h' }, LAB), { kind: 'ssh', host: '127.0.0.1', port: 40002, user: undefined });
});

test('the lab lookup: none named → undefined; a named lab must exist; a stale current-lab record is ignored', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'fcm-target-'));
  try {
    const env = { XDG_STATE_HOME: join(tmp, 'state') };
    const home = join(tmp, 'home');
    const lookup = labLookup(env, home);
    assert.equal(await lookup(undefined), undefined);

    const dir = join(tmp, 'lab');
    await writeLabState(newLabState(dir, await planNodes(dir, 2), new Date()));
    const found = await lookup(dir);
    assert.deepEqual(found?.nodes.map((n) => [n.id, n.name, n.socket]), [['n1', 'node1', join(dir, 'node1', 'agent.sock')], ['n2', 'node2', join(dir, 'node2', 'agent.sock')]]);
    assert.match(found?.nodes[0]?.address ?? '', /^127\.0\.0\.1:\d+$/);

    await setCurrentLab(dir, env, home);
    assert.equal((await lookup(undefined))?.dir, dir);
    assert.equal((await labLookup({ ...env, FCM_LAB: dir }, home)(undefined))?.dir, dir);

    await assert.rejects(lookup(join(tmp, 'nowhere')), (err: unknown) => err instanceof LabError && err.code === 'E_NO_LAB');
    await assert.rejects(labLookup({ ...env, FCM_LAB: join(tmp, 'nowhere') }, home)(undefined), (err: unknown) => err instanceof LabError && err.code === 'E_NO_LAB');
    await setCurrentLab(join(tmp, 'gone'), env, home);
    assert.equal(await lookup(undefined), undefined);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
