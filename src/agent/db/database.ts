// The cluster database: the replicated state machine. The consensus layer
// hands it committed entries in log order; it judges each command against
// the state as it is at that point (a command valid when proposed may have
// been overtaken by an earlier entry), applies it or records it as a
// rejected no-op, and keeps the audit history. The same entries give the
// same state, byte for byte, on every node: nothing here reads a clock.

import type { Entry } from '../consensus/types.js';
import type { AuditRecord, HistoryQuery } from './audit.js';
import type { CommandPlan } from './validate.js';
import type { ClusterProperties, PropertyKey } from './properties.js';
import type {
  AdminKeyRecord, ClusterState, DiskRecord, GroupRecord, GroupState, NodeRecord, PlacementRecord, QuorumSettings,
  ResourceRecord, ResourceRequestRecord, ResourceState, ResourceStateRecord, ResourceTypeRecord,
} from './schema.js';
import type { Report } from './report.js';
import { DbError, ReportSink } from './report.js';
import type { Steps } from './snapshot.js';
import { SnapshotWriter, allSteps, readSnapshot } from './snapshot.js';
import { checkPropertyKey, effectiveProperties } from './properties.js';
import { emptyState, findNode, sortedValues, sortedWhere } from './schema.js';
import { filterHistory, summarize } from './audit.js';
import { planCommand } from './validate.js';
import { currentState } from './queries.js';

export interface ApplyResult {
  index: number;
  type: string;
  result: 'applied' | 'rejected';
  /** Errors when rejected; warnings when applied. */
  reports: Report[];
  /** State version after this entry. */
  version: number;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

/**
 * A stored record, handed out without copying: apply replaces records
 * rather than changing them (copy on write), so a record read once never
 * changes under its reader; frozen (deeply, on first read) so that a reader
 * that tries to change one fails at once instead of corrupting the state.
 * Copying every record on every read cost the leader half its busy time
 * with 1,000 resources.
 */
function shared<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const field of Object.values(value)) shared(field);
  return Object.freeze(value);
}

/** Shared records in a fresh array the caller may sort or filter. */
function sharedAll<T>(values: T[]): T[] {
  for (const value of values) shared(value);
  return values;
}

function corrupt(why: string): DbError {
  return new DbError('E_CORRUPT_SNAPSHOT', `the cluster database snapshot is corrupt: ${why}`);
}

export class ClusterDatabase {
  private state: ClusterState = emptyState();
  private audit: AuditRecord[] = [];
  private index = 0;
  private term = 0;
  /** Cleared by every change. */
  private hash: string | null = null;

  /** Index of the last entry applied (0: none). */
  get appliedIndex(): number {
    return this.index;
  }

  get appliedTerm(): number {
    return this.term;
  }

  /** Number of commands applied (rejected ones do not count). */
  get version(): number {
    return this.state.version;
  }

  /** Every problem `envelope` would have if applied now. Changes nothing. */
  validate(envelope: unknown): Report[] {
    return copy(planCommand(this.state, envelope).reports);
  }

  /**
   * Applies the `data` of a committed 'command' entry. Never throws for bad
   * data: a malformed or invalid command becomes a rejected audit record.
   * Throws E_OUT_OF_ORDER if `index` does not move forward (a caller bug).
   */
  apply(index: number, term: number, data: string): ApplyResult {
    this.advance(index, term);
    let plan: CommandPlan;
    try {
      plan = planCommand(this.state, JSON.parse(data));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      const sink = new ReportSink(false);
      sink.error('E_MALFORMED', 'entry data is not JSON');
      plan = { type: 'malformed', cmd: null, actor: null, at: null, requestId: null, reports: sink.reports, mutate: null };
    }
    if (plan.mutate) {
      plan.mutate(this.state);
      this.state.version += 1;
    }
    const record: AuditRecord = {
      index, term, at: plan.at, actor: plan.actor, requestId: plan.requestId,
      type: plan.type, summary: summarize(plan.type, plan.cmd), result: plan.mutate ? 'applied' : 'rejected',
    };
    if (plan.reports.length > 0) record.reports = copy(plan.reports);
    this.audit.push(record);
    const limit = effectiveProperties(this.state.properties).historyLimit;
    if (this.audit.length > limit) this.audit.splice(0, this.audit.length - limit);
    return { index, type: record.type, result: record.result, reports: copy(plan.reports), version: this.state.version };
  }

  /** Applies any committed entry: commands go to `apply`; no-op and membership entries only advance the applied index. */
  applyEntry(entry: Entry): ApplyResult | null {
    if (entry.kind === 'command') return this.apply(entry.index, entry.term, entry.data);
    this.advance(entry.index, entry.term);
    return null;
  }

  private advance(index: number, term: number): void {
    if (!Number.isSafeInteger(index) || index <= this.index || !Number.isSafeInteger(term) || term < this.term) {
      throw new DbError('E_OUT_OF_ORDER', `entry ${index} (term ${term}) does not follow ${this.index} (term ${this.term})`);
    }
    this.index = index;
    this.term = term;
    this.hash = null;
  }

  /** The snapshot's digest of the state, audit history included: equal on nodes that applied the same entries. */
  stateHash(): string {
    if (this.hash === null) this.snapshot();
    return this.hash as string;
  }

  /** The whole database as a snapshot (snapshot.ts): byte-identical on nodes that applied the same entries. */
  snapshot(): string {
    const writer = this.snapshotWriter();
    const text = allSteps(writer);
    this.hash = writer.digestHex;
    return text;
  }

  /**
   * The snapshot of the database as it is now, to be written in steps:
   * changes applied meanwhile do not show in it.
   */
  snapshotInSteps(): Steps<string> {
    return this.snapshotWriter();
  }

  private snapshotWriter(): SnapshotWriter {
    return new SnapshotWriter({ appliedIndex: this.index, appliedTerm: this.term, state: this.state, audit: this.audit });
  }

  /** A database from a snapshot; throws DbError E_CORRUPT_SNAPSHOT if it is not one. */
  static restore(snapshot: string): ClusterDatabase {
    return allSteps(ClusterDatabase.restoreInSteps(snapshot));
  }

  /**
   * A database from a snapshot, read in steps; the constructor or a step
   * throws DbError E_CORRUPT_SNAPSHOT if it is not one. The result exists
   * only once all of it has been checked.
   */
  static restoreInSteps(snapshot: string): Steps<ClusterDatabase> {
    const asCorrupt = <T>(work: () => T): T => {
      try {
        return work();
      } catch (e) {
        throw corrupt(e instanceof Error ? e.message : String(e));
      }
    };
    const reading = asCorrupt(() => readSnapshot(snapshot));
    return {
      step: (budget) => asCorrupt(() => reading.step(budget)),
      result: () => {
        const { body, digest } = reading.result();
        const db = new ClusterDatabase();
        db.state = body.state;
        db.audit = body.audit;
        db.index = body.appliedIndex;
        db.term = body.appliedTerm;
        db.hash = digest;
        return db;
      },
    };
  }

  history(query: HistoryQuery = {}): AuditRecord[] {
    return filterHistory(this.audit, query);
  }

  /** Every property, defaults (of the chosen profile) included. */
  getProperties(): ClusterProperties {
    return effectiveProperties(this.state.properties);
  }

  /** Throws DbError E_UNKNOWN_PROPERTY, with a did-you-mean hint, for an unknown key. */
  getProperty<K extends PropertyKey>(key: K): ClusterProperties[K] {
    const sink = new ReportSink(false);
    if (!checkPropertyKey(key, sink, key)) throw new DbError('E_UNKNOWN_PROPERTY', sink.reports[0]?.message ?? key, sink.reports);
    return this.getProperties()[key];
  }

  /** Only the properties set explicitly. */
  getExplicitProperties(): Partial<ClusterProperties> {
    return Object.fromEntries(this.state.properties) as Partial<ClusterProperties>;
  }

  listNodes(): NodeRecord[] {
    return sharedAll(sortedValues(this.state.nodes)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** By id or by name. */
  getNode(ref: string): NodeRecord | undefined {
    return shared(findNode(this.state, ref));
  }

  listGroups(): GroupRecord[] {
    return sharedAll(sortedValues(this.state.groups));
  }

  getGroup(name: string): GroupRecord | undefined {
    return shared(this.state.groups.get(name));
  }

  listResources(group?: string): ResourceRecord[] {
    return sharedAll(sortedWhere(this.state.resources, (r) => group === undefined || r.group === group));
  }

  getResource(name: string): ResourceRecord | undefined {
    return shared(this.state.resources.get(name));
  }

  listResourceTypes(): ResourceTypeRecord[] {
    return sharedAll(sortedValues(this.state.resourceTypes));
  }

  getResourceType(name: string): ResourceTypeRecord | undefined {
    return shared(this.state.resourceTypes.get(name));
  }

  listDisks(): DiskRecord[] {
    return sharedAll(sortedValues(this.state.disks));
  }

  getDisk(id: string): DiskRecord | undefined {
    return shared(this.state.disks.get(id));
  }

  getQuorum(): QuorumSettings {
    return shared(this.state.quorum);
  }

  listAdminKeys(): AdminKeyRecord[] {
    return sharedAll(sortedValues(this.state.adminKeys));
  }

  /** By name or by fingerprint. */
  getAdminKey(ref: string): AdminKeyRecord | undefined {
    return shared(this.state.adminKeys.get(ref) ?? sortedValues(this.state.adminKeys).find((k) => k.fingerprint === ref));
  }

  /** Highest placement epoch handed out so far. */
  get placementEpoch(): number {
    return this.state.placementEpoch;
  }

  listPlacements(): PlacementRecord[] {
    return sharedAll(sortedValues(this.state.placements));
  }

  /** Undefined for a group that was never placed (node null, epoch 0). */
  getPlacement(group: string): PlacementRecord | undefined {
    return shared(this.state.placements.get(group));
  }

  listResourceStates(): ResourceStateRecord[] {
    return sharedAll(sortedValues(this.state.resourceStates));
  }

  getResourceState(resource: string): ResourceStateRecord | undefined {
    return shared(this.state.resourceStates.get(resource));
  }

  listResourceRequests(): ResourceRequestRecord[] {
    return sharedAll(sortedValues(this.state.resourceRequests));
  }

  /** What administrators asked of the resource (desired state, fail and cleanup requests). */
  getResourceRequest(resource: string): ResourceRequestRecord | undefined {
    return shared(this.state.resourceRequests.get(resource));
  }

  /** The resource's state in its group's current placement epoch (a record from an earlier epoch counts as Offline). */
  currentState(resource: string): ResourceState | undefined {
    const record = this.state.resources.get(resource);
    return record && currentState(this.state, record.name, record.group);
  }

  /**
   * A group's state from its resources' states in the current placement
   * epoch (a record from an earlier epoch counts as Offline). A group
   * without resources is Online while it is placed on a node.
   */
  groupState(name: string): GroupState | undefined {
    if (!this.state.groups.has(name)) return undefined;
    const states = sortedWhere(this.state.resources, (r) => r.group === name).map((r) => currentState(this.state, r.name, name));
    if (states.length === 0) return (this.state.placements.get(name)?.node ?? null) === null ? 'Offline' : 'Online';
    if (states.every((s) => s === 'Online')) return 'Online';
    if (states.some((s) => s === 'OnlinePending' || s === 'OfflinePending')) return 'Pending';
    if (states.includes('Online')) return 'PartialOnline';
    if (states.includes('Failed')) return 'Failed';
    return 'Offline';
  }
}

/** Every problem `envelope` would have if applied to `db` now (before proposing it). */
export function validateCommand(db: ClusterDatabase, envelope: unknown): Report[] {
  return db.validate(envelope);
}
