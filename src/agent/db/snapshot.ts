// The snapshot: the whole database as lines of canonical JSON, written and
// read a step at a time. A snapshot of tens of MB takes most of a second
// to write or read; done in one go it held the agent's event loop that
// long, and heartbeats waited (measured: 765 ms on the node that received
// a 24.8 MiB snapshot). Steps let the shell run the work in slices of a
// few milliseconds, with the event loop free between them. Nothing here
// reads a clock: the caller says how much work a step may do.
//
// Layout (fcm-db/4), every line ending in '\n':
//
//   {"appliedIndex":..,"appliedTerm":..,"format":"fcm-db/4","placementEpoch":..,"properties":{..},"quorum":{..},"version":..}
//   {"count":N,"table":"nodes"}        then N lines, one record each, in key order
//   ... the same for every table of TABLES, in that order (audit last, oldest first)
//   {"hash":"<16 hex>"}                TextDigest of every line before this one
//
// Formats fcm-db/2 and /3 were one JSON object `{format, hash, state}`;
// `readSnapshot` still reads them (an agent's stored snapshot from before).

import type { AuditRecord } from './audit.js';
import type { ClusterState, QuorumSettings } from './schema.js';
import type { PropertyKey, PropertyValue } from './properties.js';
import { TextDigest, canonicalJson, fnv1a64 } from './canonical.js';
import { isRecord } from './input.js';
import { isPropertyKey, parsePropertyValue } from './properties.js';
import { ReportSink } from './report.js';
import { DEFAULT_FAILOVER_RETRY, sortedValues } from './schema.js';

export const SNAPSHOT_FORMAT = 'fcm-db/4';
/**
 * Older formats `readSnapshot` still reads. Version 2 lacked a node's last
 * resume (`resumed`) and a group's `failoverRetry`: it is checked as
 * written, then given `resumed: null` on every node and the default
 * `failoverRetry` on every group. Version 3 held the same records as 4.
 */
export const OLDER_SNAPSHOT_FORMATS: readonly string[] = ['fcm-db/3', 'fcm-db/2'];

/**
 * Work done a step at a time: `step(budget)` does about `budget`
 * characters' worth (at least one line) and says whether all is done;
 * `result()` after that. A step throws on bad input.
 */
export interface Steps<T> {
  step(budget: number): boolean;
  result(): T;
}

/** Runs every step at once. */
export function allSteps<T>(work: Steps<T>): T {
  while (!work.step(Infinity));
  return work.result();
}

export interface SnapshotBody {
  appliedIndex: number;
  appliedTerm: number;
  state: ClusterState;
  audit: AuditRecord[];
}

type TableName = 'nodes' | 'groups' | 'resources' | 'resourceTypes' | 'disks' | 'adminKeys' | 'placements' | 'resourceStates' | 'resourceRequests';

/** The field each keyed table is keyed by; the tables in snapshot order. */
const KEY_FIELDS: Readonly<Record<TableName, string>> = {
  nodes: 'id', groups: 'name', resources: 'name', resourceTypes: 'name', disks: 'id',
  adminKeys: 'name', placements: 'group', resourceStates: 'resource', resourceRequests: 'resource',
};
const TABLES = Object.keys(KEY_FIELDS) as TableName[];
const AUDIT = 'audit';
const SECTIONS: readonly string[] = [...TABLES, AUDIT];

/** Puts a record read from a snapshot into its table; false when the table holds its key already. */
function putRecord(state: ClusterState, name: TableName, record: Record<string, unknown>): boolean {
  const key = record[KEY_FIELDS[name]] as string;
  const table = state[name] as Map<string, unknown>;
  if (table.has(key)) return false;
  table.set(key, record);
  return true;
}

/** Returns the first problem found, as `path: what`, or null. */
type Shape = (value: unknown, path: string) => string | null;

const str: Shape = (v, p) => (typeof v === 'string' ? null : `${p} is not a string`);
const int: Shape = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : `${p} is not a whole number`);
const bool: Shape = (v, p) => (typeof v === 'boolean' ? null : `${p} is not true or false`);
const nullable = (shape: Shape): Shape => (v, p) => (v === null ? null : shape(v, p));
const oneOf = (...values: string[]): Shape => (v, p) => (typeof v === 'string' && values.includes(v) ? null : `${p} is not one of ${values.join(', ')}`);

function first(items: Iterable<string | null>): string | null {
  for (const item of items) if (item !== null) return item;
  return null;
}

const list = (shape: Shape): Shape => (v, p) => (Array.isArray(v) ? first(v.map((item, i) => shape(item, `${p}[${i}]`))) : `${p} is not a list`);
const dict = (shape: Shape): Shape => (v, p) => (isRecord(v) ? first(Object.entries(v).map(([k, item]) => shape(item, `${p}.${k}`))) : `${p} is not an object`);

function object(fields: Record<string, Shape>, optional: readonly string[] = []): Shape {
  return (v, p) => {
    if (!isRecord(v)) return `${p} is not an object`;
    const extra = Object.keys(v).find((k) => !Object.hasOwn(fields, k));
    if (extra !== undefined) return `${p}.${extra} is unexpected`;
    return first(
      Object.entries(fields).map(([k, shape]) => (Object.hasOwn(v, k) ? shape(v[k], `${p}.${k}`) : optional.includes(k) ? null : `${p}.${k} is missing`)),
    );
  };
}

const dependency: Shape = (v, p) =>
  isRecord(v) && v['op'] === 'ref'
    ? object({ op: str, name: str })(v, p)
    : object({ op: oneOf('and', 'or'), args: list(dependency) })(v, p);

const properties: Shape = (v, p) => {
  if (!isRecord(v)) return `${p} is not an object`;
  const sink = new ReportSink(false);
  for (const [key, value] of Object.entries(v)) {
    if (!isPropertyKey(key)) return `${p}.${key} is not a property`;
    if (parsePropertyValue(key, value, sink, key) === undefined) return `${p}.${key} is not valid`;
  }
  return null;
};

const restart = object({ maxRestarts: int, period: int, delay: int, failGroupOver: bool });
const desired = oneOf('online', 'offline');
const nodeIds = list(str);
const report = object(
  { code: str, severity: oneOf('error', 'warning'), message: str, hint: str, field: str, forceable: bool },
  ['hint', 'field', 'forceable'],
);
const quorum = object({
  mode: oneOf('node-majority', 'node-and-witness', 'witness-only'),
  witness: nullable((v, p) => (isRecord(v) && v['kind'] === 'share' ? object({ kind: str, dir: str })(v, p) : object({ kind: oneOf('disk'), path: str })(v, p))),
});

/** The shape of one record of each table (and of an audit record) in snapshots of `format`. */
function recordShapes(format: string): Record<TableName | typeof AUDIT, Shape> {
  const v2 = format === 'fcm-db/2';
  return {
    nodes: object({
      id: str, name: str, address: str, hostKey: str, incarnation: str, voteWeight: int,
      kind: oneOf('node', 'witness-agent'), paused: bool, drain: bool,
      resumed: nullable(object({ failback: oneOf('now', 'policy', 'never'), epoch: int })),
    }, v2 ? ['resumed'] : []),
    groups: object({
      name: str, preferredOwners: nodeIds, possibleOwners: nodeIds, failoverThreshold: int, failoverPeriod: int, failoverRetry: int,
      failback: oneOf('never', 'immediate', 'window'), failbackWindow: nullable(object({ startHour: int, endHour: int })),
      antiAffinityClasses: list(str), priority: int, restart, desired, move: nullable(object({ to: nullable(str), from: nullable(str) })),
      cleanupRequest: int,
    }, v2 ? ['failoverRetry'] : []),
    resources: object({
      name: str, group: str, type: str, parameters: dict(str), dependsOn: nullable(dependency), restart: nullable(restart),
      deadlines: object({ start: int, stop: int, quickCheck: int, thoroughCheck: int }),
      checkIntervals: object({ quick: int, thorough: int }), possibleOwners: nodeIds, isolate: bool,
    }),
    resourceTypes: object({
      name: str, kind: oneOf('process', 'ocf', 'lsb', 'ip', 'disk', 'plugin'), source: nullable(str), builtin: bool,
      parameters: dict(object({ type: oneOf('string', 'integer', 'boolean', 'duration'), required: bool, default: nullable(str), description: str })),
    }),
    disks: object({ id: str, path: str, sizeBytes: int, ioTimeout: int, watchdogTime: int }),
    adminKeys: object({ name: str, publicKey: str, fingerprint: str, role: oneOf('admin', 'operator', 'viewer') }),
    placements: object({ group: str, node: nullable(str), epoch: int, at: int }),
    resourceStates: object({
      resource: str, state: oneOf('Offline', 'OnlinePending', 'Online', 'OfflinePending', 'Failed'),
      node: nullable(str), epoch: int, since: int, reason: nullable(str),
    }),
    resourceRequests: object({ resource: str, desired, failRequest: int, cleanupRequest: int }),
    audit: object(
      {
        index: int, term: int, at: nullable(int), actor: nullable(str), requestId: nullable(str),
        type: str, summary: str, result: oneOf('applied', 'rejected'), reports: list(report),
      },
      ['reports'],
    ),
  };
}

const CURRENT_RECORDS = recordShapes(SNAPSHOT_FORMAT);

/** The scalar part of the state: the first line of a snapshot. */
const header = object({ format: str, appliedIndex: int, appliedTerm: int, version: int, placementEpoch: int, properties, quorum });
const tableLine = object({ table: str, count: int });
const hashLine = object({ hash: str });

/** A state with every table empty, to be filled from a snapshot. */
function stateFrom(h: Record<string, unknown>): ClusterState {
  return {
    version: h['version'] as number,
    placementEpoch: h['placementEpoch'] as number,
    properties: new Map(Object.entries(h['properties'] as object) as [PropertyKey, PropertyValue][]),
    nodes: new Map(), groups: new Map(), resources: new Map(), resourceTypes: new Map(), disks: new Map(),
    quorum: h['quorum'] as QuorumSettings,
    adminKeys: new Map(), placements: new Map(), resourceStates: new Map(), resourceRequests: new Map(),
  };
}

/**
 * Writes `body` as a snapshot. The tables are listed when it is made, so
 * later changes to the database do not show in what it writes: records
 * are never changed in place (the database replaces them), and so they
 * can be shared with it until written.
 */
export class SnapshotWriter implements Steps<string> {
  /** The text written so far, one flat piece per step: a string built line by line with += is a rope of 100,000s of parts, and flattening that held the event loop 20 ms. */
  private readonly pieces: string[] = [];
  private lines: string[] = [];
  private text: string | null = null;
  private readonly digest = new TextDigest();
  private readonly sections: (readonly [string, readonly unknown[]])[];
  private section = 0;
  /** The next record of the current section to write; -1: its header line is next. */
  private row = -1;
  private done = false;
  private hash = '';

  constructor(body: SnapshotBody) {
    const { state } = body;
    this.add(canonicalJson({
      format: SNAPSHOT_FORMAT, appliedIndex: body.appliedIndex, appliedTerm: body.appliedTerm, version: state.version,
      placementEpoch: state.placementEpoch, properties: Object.fromEntries(state.properties), quorum: state.quorum,
    }));
    this.sections = [...TABLES.map((name) => [name, sortedValues<unknown>(state[name])] as const), [AUDIT, body.audit.slice()] as const];
  }

  private add(line: string): void {
    this.lines.push(line, '\n');
    this.digest.update(line);
    this.digest.update('\n');
  }

  step(budget: number): boolean {
    let written = 0;
    while (!this.done && written < budget) {
      const [name, rows] = this.sections[this.section] ?? [];
      if (name === undefined || rows === undefined) {
        this.hash = this.digest.hex();
        this.lines.push(canonicalJson({ hash: this.hash }), '\n');
        this.done = true;
      } else if (this.row < 0) {
        this.add(canonicalJson({ table: name, count: rows.length }));
        this.row = 0;
      } else if (this.row < rows.length) {
        const line = canonicalJson(rows[this.row++]);
        this.add(line);
        written += line.length;
      } else {
        this.section += 1;
        this.row = -1;
      }
    }
    this.pieces.push(this.lines.join(''));
    this.lines = [];
    return this.done;
  }

  result(): string {
    if (!this.done) throw new Error('the snapshot is not written yet');
    if (this.text === null) {
      this.text = this.pieces.join('');
      this.pieces.length = 0;
    }
    return this.text;
  }

  /** The snapshot's digest, once written. */
  get digestHex(): string {
    return this.hash;
  }
}

/** Reads a fcm-db/4 snapshot after its first line; every step throws an Error saying where it is wrong. */
class SnapshotReader implements Steps<SnapshotBody> {
  private readonly digest = new TextDigest();
  private readonly state: ClusterState;
  private readonly audit: AuditRecord[] = [];
  private at: number;
  private line = 2;
  private section = -1;
  private left = 0;
  private body: SnapshotBody | null = null;

  constructor(private readonly text: string, private readonly head: Record<string, unknown>, firstLineEnd: number) {
    this.digest.update(text, 0, firstLineEnd + 1);
    this.at = firstLineEnd + 1;
    this.state = stateFrom(head);
  }

  private fail(why: string): never {
    throw new Error(`line ${this.line}: ${why}`);
  }

  private parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.text.slice(start, end));
    } catch {
      return this.fail('not JSON');
    }
  }

  private check(shape: Shape, value: unknown, path: string): void {
    const problem = shape(value, path);
    if (problem !== null) this.fail(problem);
  }

  step(budget: number): boolean {
    const stopAt = this.at + budget;
    while (this.body === null) {
      const end = this.text.indexOf('\n', this.at);
      if (end < 0) this.fail('the snapshot ends without its hash line (cut short?)');
      const value = this.parse(this.at, end);
      if (this.left > 0) this.addRecord(value);
      else if (this.section + 1 < SECTIONS.length) this.startSection(value);
      else this.finish(value, end);
      if (this.body === null) this.digest.update(this.text, this.at, end + 1);
      this.at = end + 1;
      this.line += 1;
      if (this.at >= stopAt) break;
    }
    return this.body !== null;
  }

  private startSection(value: unknown): void {
    const name = SECTIONS[this.section + 1] as string;
    this.check(tableLine, value, 'section');
    const { table, count } = value as { table: string; count: number };
    if (table !== name) this.fail(`table ${table} where ${name} was due`);
    this.section += 1;
    this.left = count;
  }

  private addRecord(value: unknown): void {
    const name = SECTIONS[this.section] as TableName | typeof AUDIT;
    this.check(CURRENT_RECORDS[name], value, name);
    this.left -= 1;
    if (name === AUDIT) {
      this.audit.push(value as AuditRecord);
      return;
    }
    const record = value as Record<string, unknown>;
    if (!putRecord(this.state, name, record)) this.fail(`${name} holds ${String(record[KEY_FIELDS[name]])} twice`);
  }

  private finish(value: unknown, end: number): void {
    this.check(hashLine, value, 'end');
    if ((value as { hash: string }).hash !== this.digest.hex()) this.fail('checksum mismatch');
    if (end + 1 !== this.text.length) this.fail('text after the hash line');
    this.body = { appliedIndex: this.head['appliedIndex'] as number, appliedTerm: this.head['appliedTerm'] as number, state: this.state, audit: this.audit };
  }

  result(): SnapshotBody {
    if (this.body === null) throw new Error('the snapshot is not read yet');
    return this.body;
  }

  get digestHex(): string {
    return this.digest.hex();
  }
}

/** What `readSnapshot` gives: the body, and the snapshot's digest when it is of the current format. */
export interface ReadSnapshot {
  body: SnapshotBody;
  digest: string | null;
}

/**
 * Reads a snapshot of any format `readSnapshot` knows, in steps (one for
 * an older format). Throws an Error saying what is wrong, from here or
 * from a step; nothing is returned until all of it has been checked.
 */
export function readSnapshot(text: string): Steps<ReadSnapshot> {
  const firstEnd = text.indexOf('\n');
  let head: unknown;
  try {
    head = JSON.parse(firstEnd < 0 ? text : text.slice(0, firstEnd));
  } catch {
    throw new Error('line 1: not JSON');
  }
  const format = isRecord(head) ? head['format'] : undefined;
  if (typeof format === 'string' && OLDER_SNAPSHOT_FORMATS.includes(format) && firstEnd < 0) {
    const body = readOlder(head as Record<string, unknown>, format);
    return { step: () => true, result: () => ({ body, digest: null }) };
  }
  if (format !== SNAPSHOT_FORMAT || firstEnd < 0) throw new Error(`not a ${SNAPSHOT_FORMAT} snapshot (nor ${OLDER_SNAPSHOT_FORMATS.join(', ')})`);
  const problem = header(head, 'header');
  if (problem !== null) throw new Error(`line 1: ${problem}`);
  const reader = new SnapshotReader(text, head as Record<string, unknown>, firstEnd);
  return {
    step: (budget) => reader.step(budget),
    result: () => ({ body: reader.result(), digest: reader.digestHex }),
  };
}

/** A version 2 or 3 snapshot `{format, hash, state}`: checked as written, hash included, then brought to the current records. */
function readOlder(snapshot: Record<string, unknown>, format: string): SnapshotBody {
  const plain = snapshot['state'];
  const shapes = recordShapes(format);
  const tables = Object.fromEntries(SECTIONS.map((name) => [name, list(shapes[name as TableName])]));
  const problem = object({ appliedIndex: int, appliedTerm: int, version: int, placementEpoch: int, properties, quorum, ...tables })(plain, 'state');
  if (problem !== null) throw new Error(problem);
  if (typeof snapshot['hash'] !== 'string' || fnv1a64(canonicalJson(plain)) !== snapshot['hash']) throw new Error('checksum mismatch');
  const p = plain as Record<string, unknown>;
  const state = stateFrom(p);
  for (const name of TABLES) {
    for (const record of p[name] as Record<string, unknown>[]) {
      if (!putRecord(state, name, record)) throw new Error(`${name} holds ${String(record[KEY_FIELDS[name]])} twice`);
    }
  }
  if (format === 'fcm-db/2') {
    for (const node of state.nodes.values()) node.resumed ??= null;
    for (const group of state.groups.values()) group.failoverRetry ??= DEFAULT_FAILOVER_RETRY;
  }
  return { appliedIndex: p['appliedIndex'] as number, appliedTerm: p['appliedTerm'] as number, state, audit: p[AUDIT] as AuditRecord[] };
}
