import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterDatabase, validateCommand } from '../../src/agent/db/database.js';
import { DbError } from '../../src/agent/db/report.js';
import { encodeCommand } from '../../src/agent/db/commands.js';
import { TextDigest, canonicalJson, fnv1a64 } from '../../src/agent/db/canonical.js';
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
    const lines = snapshotLines(s);
    return { nodes: recordsOf(lines, 'nodes'), properties: lines[0]?.['properties'] };
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

/** A snapshot's lines as values: the header, each table's line and records, the hash line. */
function snapshotLines(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith('\n'));
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Lines back into a snapshot with a hash line that fits them, so that what a test changed is what gets checked. */
function withHash(lines: unknown[]): string {
  const body = lines.map((line) => `${canonicalJson(line)}\n`).join('');
  const digest = new TextDigest();
  digest.update(body);
  return `${body}${canonicalJson({ hash: digest.hex() })}\n`;
}

/** The records of `table` among `lines` (the objects themselves, to edit). */
function recordsOf(lines: Record<string, unknown>[], table: string): Record<string, unknown>[] {
  const at = lines.findIndex((line) => line['table'] === table);
  return lines.slice(at + 1, at + 1 + (lines[at]?.['count'] as number));
}

/** The state in the one-object form of formats fcm-db/2 and /3. */
function olderState(text: string): Record<string, Record<string, unknown>[]> {
  const [head, ...rest] = snapshotLines(text);
  const { format: _format, ...state } = head as Record<string, unknown>;
  for (const line of rest.slice(0, -1)) if (typeof line['table'] === 'string') state[line['table']] = recordsOf(rest, line['table']);
  return state as Record<string, Record<string, unknown>[]>;
}

test('a snapshot is lines: the header, each table with its count and records in key order, the audit history, the hash', () => {
  const db = new ClusterDatabase();
  feed(db, workload());
  const lines = snapshotLines(db.snapshot());
  assert.deepEqual(Object.keys(lines[0] ?? {}), ['appliedIndex', 'appliedTerm', 'format', 'placementEpoch', 'properties', 'quorum', 'version']);
  assert.equal(lines[0]?.['format'], 'fcm-db/4');
  const tables = lines.filter((line) => typeof line['table'] === 'string').map((line) => line['table']);
  assert.deepEqual(tables, ['nodes', 'groups', 'resources', 'resourceTypes', 'disks', 'adminKeys', 'placements', 'resourceStates', 'resourceRequests', 'audit']);
  assert.deepEqual(recordsOf(lines, 'groups').map((g) => g['name']), ['db', 'web']);
  assert.equal(recordsOf(lines, 'audit').length, db.history().length);
  assert.deepEqual(Object.keys(lines.at(-1) ?? {}), ['hash']);
  assert.equal(lines.at(-1)?.['hash'], db.stateHash());
});

test('a snapshot begun before later changes writes the state as it was when begun; restoring in steps changes nothing until the last', () => {
  const db = new ClusterDatabase();
  const entries = workload();
  const half = Math.floor(entries.length / 2);
  feed(db, entries.slice(0, half));
  const whole = db.snapshot();
  const writing = db.snapshotInSteps();
  assert.equal(writing.step(1), false, 'one record per step');
  // Every kind of change meanwhile, node removal included.
  entries.slice(half).forEach((data, i) => db.apply(half + i + 1, 1, data));
  const removal = db.apply(db.appliedIndex + 1, 2, encodeCommand({ cmd: { type: 'node.remove', node: 'beta' }, actor: 'n1', at: 10, force: true }));
  assert.equal(removal.result, 'applied', JSON.stringify(removal.reports));
  db.listGroups();
  let steps = 1;
  while (!writing.step(1)) steps++;
  assert.ok(steps > 10, `${steps} steps`);
  assert.equal(writing.result(), whole);
  const reading = ClusterDatabase.restoreInSteps(whole);
  assert.throws(() => reading.result(), /not read yet/);
  while (!reading.step(1));
  assert.equal(reading.result().snapshot(), whole);
});

test('corrupt snapshots are refused with E_CORRUPT_SNAPSHOT', () => {
  const db = baseline().db;
  const good = db.snapshot();
  const tampered = (edit: (lines: Record<string, unknown>[]) => void): string => {
    const lines = snapshotLines(good);
    edit(lines);
    return withHash(lines.slice(0, -1));
  };
  const first = (lines: Record<string, unknown>[], table: string): Record<string, unknown> => recordsOf(lines, table)[0] as Record<string, unknown>;
  const tableLine = (lines: Record<string, unknown>[], table: string): Record<string, unknown> => lines.find((l) => l['table'] === table) as Record<string, unknown>;
  assert.doesNotThrow(() => ClusterDatabase.restore(tampered(() => undefined)), 'the helper itself makes a good snapshot');
  const bad = [
    '',
    'null',
    good.slice(0, good.length / 2),
    good.slice(0, good.lastIndexOf('{"hash"')),
    `${good}{}\n`,
    good.replace('"alpha"', '"alphA"'),
    good.replace('fcm-db/4', 'fcm-db/1'),
    tampered((l) => (first(l, 'nodes')['voteWeight'] = 'one')),
    tampered((l) => (first(l, 'nodes')['resumed'] = { failback: 'later', epoch: 1 })),
    tampered((l) => (first(l, 'groups')['failoverRetry'] = '1h')),
    tampered((l) => delete first(l, 'groups')['failoverRetry']),
    tampered((l) => {
      l.splice(l.indexOf(first(l, 'nodes')), 0, first(l, 'nodes'));
      tableLine(l, 'nodes')['count'] = (tableLine(l, 'nodes')['count'] as number) + 1;
    }),
    tampered((l) => (tableLine(l, 'nodes')['count'] = (tableLine(l, 'nodes')['count'] as number) + 1)),
    tampered((l) => (tableLine(l, 'nodes')['count'] = (tableLine(l, 'nodes')['count'] as number) - 1)),
    tampered((l) => (tableLine(l, 'disks')['table'] = 'groups')),
    tampered((l) => delete (l[0] as Record<string, unknown>)['quorum']),
    tampered((l) => (first(l, 'resourceRequests')['desired'] = 'maybe')),
    tampered((l) => (first(l, 'audit')['result'] = 'maybe')),
  ];
  for (const snapshot of bad) {
    assert.throws(() => ClusterDatabase.restore(snapshot), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT', snapshot.slice(0, 80));
  }
  // Where it is wrong is said by line.
  assert.throws(() => ClusterDatabase.restore(tampered((l) => (first(l, 'nodes')['voteWeight'] = 'one'))), /line 3: nodes\.voteWeight is not a whole number/);
});

test('version-2 and -3 snapshots (one JSON object) are checked as written, hash included, then read as the current version', () => {
  const h = baseline();
  h.must({ type: 'group.set', name: 'web', settings: { failoverRetry: '30s' } });
  const state = olderState(h.db.snapshot());
  const older = (format: string, s: unknown): string => JSON.stringify({ format, hash: fnv1a64(canonicalJson(s)), state: s });
  // Version 3 held the records of version 4.
  const v3 = ClusterDatabase.restore(older('fcm-db/3', state));
  assert.equal(v3.snapshot(), h.db.snapshot());
  for (const node of state['nodes'] ?? []) delete node['resumed'];
  for (const group of state['groups'] ?? []) delete group['failoverRetry'];
  const restored = ClusterDatabase.restore(older('fcm-db/2', state));
  // Version 2 knew no retry setting: every group waits the default 1h; nodes have no resume.
  assert.deepEqual(restored.listGroups().map((g) => [g.name, g.failoverRetry]), [['db', 3_600_000], ['web', 3_600_000]]);
  const fresh = baseline().db;
  assert.deepEqual([restored.listGroups(), restored.listNodes()], [fresh.listGroups(), fresh.listNodes()]);
  // Tampering is still caught: the hash covers the version-2 body.
  const tampered = older('fcm-db/2', state).replace('"alpha"', '"alphA"');
  assert.throws(() => ClusterDatabase.restore(tampered), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT');
  // A version-3 snapshot must carry resumed on every node and failoverRetry on every group.
  assert.throws(() => ClusterDatabase.restore(older('fcm-db/3', state)), (e: unknown) => e instanceof DbError && e.code === 'E_CORRUPT_SNAPSHOT');
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
