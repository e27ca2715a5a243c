// The snapshot body: the whole state as plain JSON (maps become arrays in
// key order), and the shape check that `restore` runs before trusting one.

import type { AuditRecord } from './audit.js';
import type {
  AdminKeyRecord, ClusterState, DiskRecord, GroupRecord, NodeRecord, PlacementRecord, QuorumSettings,
  ResourceRecord, ResourceRequestRecord, ResourceStateRecord, ResourceTypeRecord,
} from './schema.js';
import type { PropertyKey, PropertyValue } from './properties.js';
import { isRecord } from './input.js';
import { isPropertyKey, parsePropertyValue } from './properties.js';
import { ReportSink } from './report.js';
import { DEFAULT_FAILOVER_RETRY, sortedValues } from './schema.js';

/**
 * Version 2 added desired states, moves, fail and cleanup requests, and
 * failGroupOver; version 3 a node's last resume (`resumed`) and a group's
 * `failoverRetry`.
 */
export const SNAPSHOT_FORMAT = 'fcm-db/3';
/**
 * Older formats `restore` still reads: a version-2 snapshot is checked as
 * written, then given `resumed: null` on every node and the default
 * `failoverRetry` on every group.
 */
export const OLDER_SNAPSHOT_FORMATS: readonly string[] = ['fcm-db/2'];

export interface SnapshotBody {
  appliedIndex: number;
  appliedTerm: number;
  state: ClusterState;
  audit: AuditRecord[];
}

/** The JSON form: what `snapshot()` writes under `state`. */
export interface PlainState {
  appliedIndex: number;
  appliedTerm: number;
  version: number;
  placementEpoch: number;
  properties: Record<string, PropertyValue>;
  nodes: NodeRecord[];
  groups: GroupRecord[];
  resources: ResourceRecord[];
  resourceTypes: ResourceTypeRecord[];
  disks: DiskRecord[];
  quorum: QuorumSettings;
  adminKeys: AdminKeyRecord[];
  placements: PlacementRecord[];
  resourceStates: ResourceStateRecord[];
  resourceRequests: ResourceRequestRecord[];
  audit: AuditRecord[];
}

export function toPlain(body: SnapshotBody): PlainState {
  const { state } = body;
  return {
    appliedIndex: body.appliedIndex,
    appliedTerm: body.appliedTerm,
    version: state.version,
    placementEpoch: state.placementEpoch,
    properties: Object.fromEntries(state.properties),
    nodes: sortedValues(state.nodes),
    groups: sortedValues(state.groups),
    resources: sortedValues(state.resources),
    resourceTypes: sortedValues(state.resourceTypes),
    disks: sortedValues(state.disks),
    quorum: state.quorum,
    adminKeys: sortedValues(state.adminKeys),
    placements: sortedValues(state.placements),
    resourceStates: sortedValues(state.resourceStates),
    resourceRequests: sortedValues(state.resourceRequests),
    audit: body.audit,
  };
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

const shapeOf = (format: string): Shape => object({
  appliedIndex: int,
  appliedTerm: int,
  version: int,
  placementEpoch: int,
  properties,
  nodes: list(object({
    id: str, name: str, address: str, hostKey: str, incarnation: str, voteWeight: int,
    kind: oneOf('node', 'witness-agent'), paused: bool, drain: bool,
    resumed: nullable(object({ failback: oneOf('now', 'policy', 'never'), epoch: int })),
  }, format === 'fcm-db/2' ? ['resumed'] : [])),
  groups: list(object({
    name: str, preferredOwners: nodeIds, possibleOwners: nodeIds, failoverThreshold: int, failoverPeriod: int, failoverRetry: int,
    failback: oneOf('never', 'immediate', 'window'), failbackWindow: nullable(object({ startHour: int, endHour: int })),
    antiAffinityClasses: list(str), priority: int, restart, desired, move: nullable(object({ to: nullable(str), from: nullable(str) })),
    cleanupRequest: int,
  }, format === 'fcm-db/2' ? ['failoverRetry'] : [])),
  resources: list(object({
    name: str, group: str, type: str, parameters: dict(str), dependsOn: nullable(dependency), restart: nullable(restart),
    deadlines: object({ start: int, stop: int, quickCheck: int, thoroughCheck: int }),
    checkIntervals: object({ quick: int, thorough: int }), possibleOwners: nodeIds, isolate: bool,
  })),
  resourceTypes: list(object({
    name: str, kind: oneOf('process', 'ocf', 'lsb', 'ip', 'disk', 'plugin'), source: nullable(str), builtin: bool,
    parameters: dict(object({ type: oneOf('string', 'integer', 'boolean', 'duration'), required: bool, default: nullable(str), description: str })),
  })),
  disks: list(object({ id: str, path: str, sizeBytes: int, ioTimeout: int, watchdogTime: int })),
  quorum: object({
    mode: oneOf('node-majority', 'node-and-witness', 'witness-only'),
    witness: nullable((v, p) => (isRecord(v) && v['kind'] === 'share' ? object({ kind: str, dir: str })(v, p) : object({ kind: oneOf('disk'), path: str })(v, p))),
  }),
  adminKeys: list(object({ name: str, publicKey: str, fingerprint: str, role: oneOf('admin', 'operator', 'viewer') })),
  placements: list(object({ group: str, node: nullable(str), epoch: int, at: int })),
  resourceStates: list(object({
    resource: str, state: oneOf('Offline', 'OnlinePending', 'Online', 'OfflinePending', 'Failed'),
    node: nullable(str), epoch: int, since: int, reason: nullable(str),
  })),
  resourceRequests: list(object({ resource: str, desired, failRequest: int, cleanupRequest: int })),
  audit: list(object(
    {
      index: int, term: int, at: nullable(int), actor: nullable(str), requestId: nullable(str),
      type: str, summary: str, result: oneOf('applied', 'rejected'), reports: list(report),
    },
    ['reports'],
  )),
});

function toMap<V>(records: V[], key: (record: V) => string, path: string): Map<string, V> {
  const map = new Map<string, V>();
  for (const record of records) {
    if (map.has(key(record))) throw new Error(`${path} holds ${key(record)} twice`);
    map.set(key(record), record);
  }
  return map;
}

/** The body back from plain JSON of `format`; throws an Error saying what is wrong with it. */
export function fromPlain(plain: unknown, format: string = SNAPSHOT_FORMAT): SnapshotBody {
  const problem = shapeOf(format)(plain, 'state');
  if (problem !== null) throw new Error(problem);
  const p = plain as PlainState;
  const state: ClusterState = {
    version: p.version,
    placementEpoch: p.placementEpoch,
    properties: new Map(Object.entries(p.properties) as [PropertyKey, PropertyValue][]),
    nodes: toMap(p.nodes, (n) => n.id, 'nodes'),
    groups: toMap(p.groups, (g) => g.name, 'groups'),
    resources: toMap(p.resources, (r) => r.name, 'resources'),
    resourceTypes: toMap(p.resourceTypes, (t) => t.name, 'resourceTypes'),
    disks: toMap(p.disks, (d) => d.id, 'disks'),
    quorum: p.quorum,
    adminKeys: toMap(p.adminKeys, (k) => k.name, 'adminKeys'),
    placements: toMap(p.placements, (x) => x.group, 'placements'),
    resourceStates: toMap(p.resourceStates, (x) => x.resource, 'resourceStates'),
    resourceRequests: toMap(p.resourceRequests, (x) => x.resource, 'resourceRequests'),
  };
  return { appliedIndex: p.appliedIndex, appliedTerm: p.appliedTerm, state, audit: p.audit };
}

/** A body read from an older format, after its hash was checked, brought to the current one. */
export function upgradeBody(body: SnapshotBody, format: string): void {
  if (format !== 'fcm-db/2') return;
  for (const node of body.state.nodes.values()) node.resumed ??= null;
  for (const group of body.state.groups.values()) group.failoverRetry ??= DEFAULT_FAILOVER_RETRY;
}
