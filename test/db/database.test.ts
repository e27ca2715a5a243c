import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterDatabase, validateCommand } from '../../src/agent/db/database.js';
import { DbError } from '../../src/agent/db/report.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { canonicalJson, fnv1a64 } from '../../src/agent/db/canonical.js';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import { BASELINE, Harness, addNode, baseline, errorCodes } from './fixture.js';

/** The baseline followed by a mix of valid, invalid and malformed entries. */
function workload(): string[] {
  const at = 1_700_000_000_000;
  const commands: ClusterCommand[] = [
    ...BASELINE,
    { type: 'group.create', name: 'web' },
    { type: 'placement.set', group: 'web', node: 'beta' },
    { type: 'group.move', name: 'web', to: 'alpha' },
    { type: 'resource.offline', name: 'app' },
    { type: 'resourceState.set', resource: 'ip1', state: 'OnlinePending', node: 'n2', epoch: 1 },
    { type: 'property.set', values: { historyLimit: 1000, fencing: 'external' } },
    { type: 'resource.depend', name: 'ip1', on: 'app' },
    { type: 'group.set', name: 'db', settings: { failoverRetry: '45s' } },
  ];
  const entries = commands.map((cmd, i) => encodeCommand({ cmd, actor: 'SHA256:admin', at: at + i, requestId: `r${i}` }));
  entries.push('not json', '{"cmd":{"type":"group.explode"},"actor":"n1","at":1}', '[]');
  return entries;
}

function feed(db: ClusterDatabase, entries: string[]): void {
  entries.forEach((data, i) => db.apply(i + 1, 1, data));
}

test('two databases fed the same entries have the same hash and byte-identical snapshots', () => {
  const a = new ClusterDatabase();
  const b = new ClusterDatabase();
  feed(a, workload());
  feed(b, workload());
  assert.equal(a.stateHash(), b.stateHash());
  assert.equal(a.snapshot(), b.snapshot());
  assert.equal(a.appliedIndex, workload().length);
  const c = new ClusterDatabase();
  feed(c, workload().slice(0, -4));
  assert.notEqual(c.stateHash(), a.stateHash());
});

test('insertion order does not leak into the snapshot', () => {
  const a = new Harness();
  const b = new Harness();
  a.must(addNode(1, 'alpha'));
  a.must(addNode(2, 'beta'));
  b.must(addNode(2, 'beta'));
  b.must(addNode(1, 'alpha'));
  const strip = (s: string): unknown => {
    const parsed = JSON.parse(s) as { state: Record<string, unknown> };
    return { nodes: parsed.state['nodes'], properties: parsed.state['properties'] };
  };
  assert.deepEqual(strip(a.db.snapshot()), strip(b.db.snapshot()));
  assert.deepEqual(a.db.listNodes().map((n) => n.name), ['alpha', 'beta']);
});

test('a command valid when proposed is re-validated at apply: the second group.create is a recorded no-op', () => {
  const db = new ClusterDatabase();
  const proposal = encodeCommand({ cmd: { type: 'group.create', name: 'web' }, actor: 'n1', at: 5 });
  assert.deepEqual(validateCommand(db, JSON.parse(proposal)), []);
  // A typed envelope as a proposer builds it: undefined members count as absent, as after encoding.
  assert.deepEqual(validateCommand(db, { cmd: { type: 'group.create', name: 'web', settings: undefined }, actor: 'n1', at: 5, requestId: undefined }), []);
  const first = db.apply(1, 1, proposal);
  const second = db.apply(2, 1, encodeCommand({ cmd: { type: 'group.create', name: 'web' }, actor: 'n2', at: 6, requestId: 'q2' }));
  assert.equal(first.result, 'applied');
  assert.equal(second.result, 'rejected');
  assert.deepEqual(errorCodes(second.reports), ['E_EXISTS']);
  assert.equal(db.version, 1);
  const [, record] = db.history();
  assert.deepEqual(record, {
    index: 2, term: 1, at: 6, actor: 'n2', requestId: 'q2', type: 'group.create', summary: 'group.create web', result: 'rejected', reports: second.reports,
  });
});

test('malformed entries are recorded as rejected, never thrown', () => {
  const h = new Harness();
  const cases: [string, string, string[]][] = [
    ['not json', 'malformed', ['E_MALFORMED']],
    ['42', 'malformed', ['E_MALFORMED']],
    ['{}', 'malformed', ['E_REQUIRED', 'E_REQUIRED', 'E_REQUIRED']],
    ['{"cmd":{"type":"group.explode"},"actor":"n1","at":1}', 'malformed', ['E_UNKNOWN_COMMAND']],
    ['{"cmd":{"type":"group.create","name":"g"},"actor":"","at":-1,"force":"yes","extra":1}', 'group.create', ['E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_UNKNOWN_FIELD']],
    ['{"cmd":{"type":"group.create","name":{"__proto__":1}},"actor":"n1","at":1}', 'group.create', ['E_INVALID_NAME']],
  ];
  for (const [data, type, codes] of cases) {
    const result = h.applyData(data);
    assert.equal(result.result, 'rejected', data);
    assert.equal(result.type, type, data);
    assert.deepEqual(errorCodes(result.reports), codes.sort(), data);
  }
  assert.equal(h.db.version, 0);
  assert.deepEqual(h.db.history({ type: 'malformed' }).map((r) => r.index), [1, 2, 3, 4]);
});

test('commands of any shape never make apply throw', () => {
  const h = baseline();
  const values: unknown[] = [null, true, 0, -1, 1.5, 1e300, '', 'web', 'n1', '5s', '/x', [], ['alpha'], [1], {}, { a: 1 }, { type: 'string' }];
  const fields = ['name', 'id', 'node', 'to', 'group', 'resource', 'resourceType', 'settings', 'values', 'parameters', 'on', 'dependsOn', 'state', 'epoch', 'mode', 'witness'];
  let n = 0;
  for (const type of ['property.set', 'node.add', 'node.set', 'group.create', 'group.set', 'resource.create', 'resource.set', 'resource.depend', 'resourceType.register', 'quorum.set', 'placement.set', 'resourceState.set', 'disk.add',
    'group.online', 'group.move', 'group.cleanup', 'resource.offline', 'resource.fail', 'resource.cleanup']) {
    for (const field of fields) {
      for (const value of values) {
        h.apply({ type, [field]: value, settings: { [field]: value, restart: value, deadlines: value } });
        n++;
      }
    }
  }
  assert.equal(h.db.appliedIndex, BASELINE.length + n);
});

test('validate reports every problem at once and changes nothing', () => {
  const h = baseline();
  const before = h.db.snapshot();
  const reports = h.validate({ type: 'resource.create', name: 'bad name', group: 'nogroup', resourceType: 'nope', dependsOn: '(', settings: { isolate: 'yes' } });
  assert.deepEqual(errorCodes(reports), ['E_DEPENDENCY_SYNTAX', 'E_INVALID_NAME', 'E_INVALID_VALUE', 'E_NOT_FOUND', 'E_NOT_FOUND']);
  assert.ok(reports.every((r) => r.message.length > 0 && r.field !== undefined));
  assert.equal(h.db.snapshot(), before);
});

test('forced overrides are applied and recorded with their warnings', () => {
  const h = baseline();
  h.must({ type: 'adminKey.remove', name: 'root' }, { force: true });
  const [record] = h.db.history({ limit: 1 });
  assert.equal(record?.result, 'applied');
  assert.deepEqual(record?.reports?.map((r) => [r.code, r.severity, r.forceable]), [['E_LAST_ADMIN', 'warning', true]]);
});

test('snapshot and restore round-trip', () => {
  const db = new ClusterDatabase();
  feed(db, workload());
  const restored = ClusterDatabase.restore(db.snapshot());
  assert.equal(restored.snapshot(), db.snapshot());
  assert.equal(restored.stateHash(), db.stateHash());
  assert.equal(restored.appliedIndex, db.appliedIndex);
  assert.deepEqual(restored.history(), db.history());
  assert.deepEqual(restored.getProperties(), db.getProperties());
  assert.equal(restored.getGroup('db')?.failoverRetry, 45_000);
  // The restored copy goes on exactly like the original.
  const next = encodeCommand({ cmd: { type: 'group.create', name: 'after' }, actor: 'n1', at: 9 });
  db.apply(db.appliedIndex + 1, 2, next);
  restored.apply(restored.appliedIndex + 1, 2, next);
  assert.equal(restored.snapshot(), db.snapshot());
});

test('corrupt snapshots are refused with E_CORRUPT_SNAPSHOT', () => {
  const db = baseline().db;
  const good = db.snapshot();
  const parsed = JSON.parse(good) as { state: { nodes: Record<string, unknown>[]; groups: Record<string, unknown>[] } };
  const tampered = (edit: (s: typeof parsed) => void): string => {
    const copy = structuredClone(parsed);
    edit(copy);
    return JSON.stringify(copy);
  };
  const bad = [
    '',
    'null',
    good.slice(0, good.length / 2),
    good.replace('"alpha"', '"alphA"'),
    good.replace('fcm-db/3', 'fcm-db/1'),
    tampered((s) => ((s.state.nodes[0] as Record<string, unknown>)['voteWeight'] = 'one')),
    tampered((s) => ((s.state.nodes[0] as Record<string, unknown>)['resumed'] = { failback: 'later', epoch: 1 })),
    tampered((s) => ((s.state.groups[0] as Record<string, unknown>)['failoverRetry'] = '1h')),
    tampered((s) => delete (s.state.groups[0] as Record<string, unknown>)['failoverRetry']),
    tampered((s) => s.state.nodes.push(s.state.nodes[0] as Record<string, unknown>)),
    tampered((s) => delete (s.state as Record<string, unknown>)['quorum']),
    tampered((s) => (((s.state as unknown as { resourceRequests: Record<string, unknown>[] }).resourceRequests[0] as Record<string, unknown>)['desired'] = 'maybe')),
  ];
  for (const snapshot of bad) {
    assert.throws(() => ClusterDatabase.restore(snapshot), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT', snapshot.slice(0, 80));
  }
});

test('a version-2 snapshot (nodes without resumed, groups without failoverRetry) is checked as written, then read as version 3', () => {
  const h = baseline();
  h.must({ type: 'group.set', name: 'web', settings: { failoverRetry: '30s' } });
  const parsed = JSON.parse(h.db.snapshot()) as { state: { nodes: Record<string, unknown>[]; groups: Record<string, unknown>[] } };
  for (const node of parsed.state.nodes) delete node['resumed'];
  for (const group of parsed.state.groups) delete group['failoverRetry'];
  const v2 = (state: unknown): string => JSON.stringify({ format: 'fcm-db/2', hash: fnv1a64(canonicalJson(state)), state });
  const restored = ClusterDatabase.restore(v2(parsed.state));
  // Version 2 knew no retry setting: every group waits the default 1h; nodes have no resume.
  assert.deepEqual(restored.listGroups().map((g) => [g.name, g.failoverRetry]), [['db', 3_600_000], ['web', 3_600_000]]);
  const fresh = baseline().db;
  assert.deepEqual([restored.listGroups(), restored.listNodes()], [fresh.listGroups(), fresh.listNodes()]);
  // Tampering is still caught: the hash covers the version-2 body.
  const tampered = v2(parsed.state).replace('"alpha"', '"alphA"');
  assert.throws(() => ClusterDatabase.restore(tampered), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT');
  // A version-3 snapshot must carry resumed on every node and failoverRetry on every group.
  const missing = JSON.stringify({ format: 'fcm-db/3', hash: fnv1a64(canonicalJson(parsed.state)), state: parsed.state });
  assert.throws(() => ClusterDatabase.restore(missing), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT');
});

test('history: limit, sinceIndex and type filters; oldest records dropped beyond historyLimit', () => {
  const h = new Harness();
  h.must({ type: 'property.set', values: { historyLimit: 5 } });
  for (let i = 0; i < 8; i++) h.must({ type: 'group.create', name: `g${i}` });
  h.must(addNode(1, 'alpha'));
  const all = h.db.history();
  assert.deepEqual(all.map((r) => r.index), [6, 7, 8, 9, 10]);
  assert.deepEqual(h.db.history({ limit: 2 }).map((r) => r.index), [9, 10]);
  assert.deepEqual(h.db.history({ limit: 0 }), []);
  assert.deepEqual(h.db.history({ sinceIndex: 8 }).map((r) => r.index), [9, 10]);
  assert.deepEqual(h.db.history({ type: 'node.add' }).map((r) => r.summary), ['node.add alpha']);
  assert.deepEqual(h.db.history({ type: 'group' }).map((r) => r.index), [6, 7, 8, 9]);
  assert.deepEqual(h.db.history({ type: 'group', sinceIndex: 6, limit: 1 }).map((r) => r.index), [9]);
  // Records are copies.
  (all[0] as { summary: string }).summary = 'changed';
  assert.notEqual(h.db.history()[0]?.summary, 'changed');
});

test('entries must move forward; non-command entries only advance the index', () => {
  const db = new ClusterDatabase();
  assert.equal(db.applyEntry({ index: 1, term: 1, kind: 'noop', data: '' }), null);
  const result = db.applyEntry({ index: 2, term: 1, kind: 'command', data: encodeCommand({ cmd: { type: 'group.create', name: 'g' }, actor: 'n1', at: 1 }) });
  assert.equal(result?.result, 'applied');
  assert.equal(db.appliedIndex, 2);
  for (const [index, term] of [[2, 1], [1, 1], [3, 0], [3.5, 1]] as const) {
    assert.throws(() => db.apply(index, term, '{}'), (e: unknown) => e instanceof DbError && e.code === 'E_OUT_OF_ORDER');
  }
  assert.equal(db.history().length, 1);
});

test('read accessors share frozen records: a reader cannot change the state, and a record read once never changes', () => {
  const h = baseline();
  const group = h.db.getGroup('web');
  assert.throws(() => group?.preferredOwners.push('n3'), TypeError);
  assert.throws(() => { h.db.listNodes()[0]!.name = 'changed'; }, TypeError);
  // Lists are fresh arrays: a caller may sort them.
  h.db.listNodes().reverse();
  const before = h.db.getGroup('web');
  h.must({ type: 'group.set', name: 'web', settings: { priority: 7 } });
  assert.notEqual(before?.priority, 7, 'apply replaced the record rather than changing it');
  assert.equal(h.db.getGroup('web')?.priority, 7);
  assert.deepEqual(h.db.getGroup('web')?.preferredOwners, ['n1', 'n2']);
  assert.equal(h.db.getNode('n1')?.name, 'alpha');
  assert.equal(h.db.getNode('alpha')?.id, 'n1');
  assert.deepEqual(h.db.listResources('web').map((r) => r.name), ['app', 'ip1']);
  assert.deepEqual(h.db.listResourceTypes().map((t) => t.name), ['disk', 'ip', 'process']);
  assert.equal(h.db.groupState('web'), 'Offline');
  assert.equal(h.db.groupState('nope'), undefined);
});
