// A partial partition in a real 3-node lab: the leader is cut from one
// follower only (`fcm lab cut LEADER --from FOLLOWER`). The agents' own view
// of their links shows the relay cut exactly that pair: the cut-off follower
// still reaches the other follower, and the leader keeps its quorum through
// that one. After the heal every link and every node is Up again, and the lab
// goes down leaving no process behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentStatus, ClusterStatus } from '../../src/client/api.js';
import type { RelayNodeStatus } from '../../src/lab/relay.js';
import { closeTestLab, eventually, fcm, fcmJson, openTestLab } from './helpers.js';
import type { TestLab } from './helpers.js';

interface LabNodeView {
  id: string;
  name: string;
  cut: string | null;
  cutFrom: string[];
}

let testLab: TestLab<{ nodes: LabNodeView[] }>;
let env: NodeJS.ProcessEnv = {};
let nodes: LabNodeView[] = [];

const run = (...args: string[]) => fcm(env, args);
const json = <T>(...args: string[]) => fcmJson<T>(env, args);

/** Whether `node`'s agent has its control link to each peer up, by peer node id. */
function linksOf(node: string): Map<string, boolean> {
  return new Map(json<AgentStatus>('agent', 'status', '--via', node).peers.map((p) => [p.id, p.control]));
}

before(async () => {
  testLab = await openTestLab<{ nodes: LabNodeView[] }>('partial');
  ({ env } = testLab);
  nodes = testLab.up.nodes;
});

after(() => closeTestLab(testLab, { removed: true }));

test('the leader cut from one follower: that follower still reaches the other; heal brings every link back', async () => {
  assert.equal(nodes.length, 3);
  const status = json<ClusterStatus>('status');
  const leader = status.nodes.find((n) => n.leader);
  const [cutOff, bridge] = status.nodes.filter((n) => !n.leader);
  assert.ok(leader !== undefined && cutOff !== undefined && bridge !== undefined, JSON.stringify(status.nodes));
  const labId = (name: string): string => nodes.find((n) => n.name === name)?.id ?? '';

  const cut = json<RelayNodeStatus>('lab', 'cut', leader.name, '--from', cutOff.name);
  assert.deepEqual([cut.node, cut.cut, cut.cutFrom], [labId(leader.name), null, [labId(cutOff.name)]]);
  const human = run('lab', 'status');
  assert.equal(human.status, 0, human.err);
  assert.match(human.out, new RegExp(`\\n${leader.name} .* cut from ${cutOff.name} `));
  const views = json<{ nodes: LabNodeView[] }>('lab', 'status').nodes;
  assert.deepEqual(
    views.map((n) => [n.name, n.cut, n.cutFrom]).sort(),
    [[leader.name, null, [cutOff.name]], [cutOff.name, null, [leader.name]], [bridge.name, null, []]].sort(),
  );

  // Once the cut-off follower sees its link to the leader down, its link to the other follower must still be up.
  const seen = await eventually(`${cutOff.name} to lose its link to ${leader.name}`, () => {
    const links = linksOf(cutOff.name);
    return links.get(leader.id) === false ? links : undefined;
  }, 10_000, 100);
  assert.equal(seen.get(bridge.id), true, `${cutOff.name} still reaches ${bridge.name}`);
  const fromLeader = await eventually(`${leader.name} to lose its link to ${cutOff.name}`, () => {
    const links = linksOf(leader.name);
    return links.get(cutOff.id) === false ? links : undefined;
  }, 10_000, 100);
  assert.equal(fromLeader.get(bridge.id), true, `${leader.name} still reaches ${bridge.name}`);
  const middle = linksOf(bridge.name);
  assert.deepEqual([middle.get(leader.id), middle.get(cutOff.id)], [true, true], `${bridge.name} reaches both`);

  // The leader keeps its quorum through the other follower: a config write through it commits.
  const written = json<{ properties: Record<string, number> }>('config', 'set', 'historyLimit=4999', '--via', bridge.name);
  assert.equal(written.properties.historyLimit, 4999);

  const healed = json<RelayNodeStatus>('lab', 'heal', leader.name, '--from', cutOff.name);
  assert.deepEqual([healed.cut, healed.cutFrom], [null, []]);
  await eventually('every link and every node Up again', () => {
    const all = [leader, cutOff, bridge].every((n) => [...linksOf(n.name).values()].every((up) => up));
    const s = json<ClusterStatus>('status', '--via', cutOff.name);
    return all && s.leader !== null && s.nodes.every((n) => n.state === 'Up') ? true : undefined;
  }, 15_000, 200);
  assert.ok(json<{ nodes: LabNodeView[] }>('lab', 'status').nodes.every((n) => n.cut === null && n.cutFrom.length === 0));
});
