// Shared helpers for the cluster database tests: a database fed through
// apply() exactly as the consensus layer would, and a small cluster to
// start from.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterCommand } from '../../src/agent/db/commands.js';
import type { ApplyResult } from '../../src/agent/db/database.js';
import type { Report } from '../../src/agent/db/report.js';
import { ClusterDatabase } from '../../src/agent/db/database.js';
import { encodeCommand } from '../../src/agent/db/commands.js';

/** A syntactically valid OpenSSH ed25519 public key, distinct per n. */
export function hostKey(n: number): string {
  return `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).padStart(4, '0')}QmFzZTY0S2V5 root@node${n}`;
}

export function fingerprint(n: number): string {
  return `SHA256:${String(n).padStart(43, 'x')}`;
}

export interface Options {
  force?: boolean;
  actor?: string;
  requestId?: string;
}

export class Harness {
  readonly db: ClusterDatabase;
  index: number;
  /** Proposer clock (ms); each entry one second later. */
  at = 1_700_000_000_000;

  constructor(db = new ClusterDatabase()) {
    this.db = db;
    this.index = db.appliedIndex;
  }

  envelope(cmd: unknown, options: Options = {}): Record<string, unknown> {
    const envelope: Record<string, unknown> = { cmd, actor: options.actor ?? 'n1', at: this.at };
    if (options.force) envelope['force'] = true;
    if (options.requestId) envelope['requestId'] = options.requestId;
    return envelope;
  }

  validate(cmd: unknown, options?: Options): Report[] {
    return this.db.validate(this.envelope(cmd, options));
  }

  /** Applies with the clock one second on; afterwards `at` is the entry's time. */
  apply(cmd: unknown, options?: Options): ApplyResult {
    this.at += 1000;
    return this.applyData(JSON.stringify(this.envelope(cmd, options)));
  }

  applyData(data: string, term = 1): ApplyResult {
    return this.db.apply(++this.index, term, data);
  }

  /** Applies a command that must succeed. */
  must(cmd: ClusterCommand, options?: Options): ApplyResult {
    this.at += 1000;
    const result = this.applyData(encodeCommand({ cmd, actor: options?.actor ?? 'n1', at: this.at, force: options?.force }));
    assert.equal(result.result, 'applied', `${cmd.type}: ${JSON.stringify(result.reports)}`);
    return result;
  }
}

export function errorCodes(reports: readonly Report[]): string[] {
  return reports.filter((r) => r.severity === 'error').map((r) => r.code).sort();
}

export function warningCodes(reports: readonly Report[]): string[] {
  return reports.filter((r) => r.severity === 'warning').map((r) => r.code).sort();
}

export function addNode(n: number, name: string, extra: Partial<Extract<ClusterCommand, { type: 'node.add' }>> = {}): ClusterCommand {
  return { type: 'node.add', id: `n${n}`, name, address: `10.0.0.${n}:2222`, hostKey: hostKey(n), incarnation: `inc-${n}`, ...extra };
}

/**
 * Three nodes (n1 alpha, n2 beta, n3 gamma), a cluster disk d1, group web
 * (ip1, app depending on ip1) and group db (disk1 on d1, unmounted).
 */
export const BASELINE: ClusterCommand[] = [
  addNode(1, 'alpha'),
  addNode(2, 'beta'),
  addNode(3, 'gamma'),
  { type: 'disk.add', id: 'd1', path: '/dev/disk/by-id/shared-1', sizeBytes: 64 * 1024 * 1024, ioTimeout: '1s', watchdogTime: '5s' },
  { type: 'group.create', name: 'web', settings: { preferredOwners: ['alpha', 'beta'] } },
  { type: 'resource.create', name: 'ip1', group: 'web', resourceType: 'ip', parameters: { address: '10.0.0.50/24' } },
  { type: 'resource.create', name: 'app', group: 'web', resourceType: 'process', parameters: { command: '/usr/bin/app' }, dependsOn: 'ip1' },
  { type: 'group.create', name: 'db' },
  { type: 'resource.create', name: 'disk1', group: 'db', resourceType: 'disk', parameters: { disk: 'd1' } },
  { type: 'adminKey.add', name: 'root', publicKey: hostKey(100), fingerprint: fingerprint(100), role: 'admin' },
];

export function baseline(): Harness {
  const h = new Harness();
  for (const cmd of BASELINE) h.must(cmd);
  return h;
}

export interface Case {
  name: string;
  /** Start from an empty database instead of the baseline. */
  empty?: boolean;
  setup?: ClusterCommand[];
  /** Setup commands that need force. */
  forcedSetup?: ClusterCommand[];
  cmd: unknown;
  force?: boolean;
  /** Error codes expected, in any order; [] means valid. */
  errors: string[];
  warnings?: string[];
  /** Checks on the database after a successful apply. */
  then?: (h: Harness) => void;
}

/**
 * Reads every record, which freezes it (readers share records): a command
 * that then changes a record in place instead of replacing it throws.
 */
function readEverything(db: ClusterDatabase): void {
  db.listNodes();
  db.listGroups();
  db.listResources();
  db.listResourceTypes();
  db.listDisks();
  db.getQuorum();
  db.listAdminKeys();
  db.listPlacements();
  db.listResourceStates();
  db.listResourceRequests();
}

/**
 * One test per case: validate must report exactly the expected codes, and
 * apply must agree with validate (applied iff no errors, same reports),
 * with every record read (and so frozen) before.
 */
export function runCases(title: string, cases: readonly Case[]): void {
  for (const c of cases) {
    test(`${title}: ${c.name}`, () => {
      const h = c.empty ? new Harness() : baseline();
      for (const cmd of c.setup ?? []) h.must(cmd);
      for (const cmd of c.forcedSetup ?? []) h.must(cmd, { force: true });
      const reports = h.validate(c.cmd, { force: c.force });
      assert.deepEqual(errorCodes(reports), [...c.errors].sort(), JSON.stringify(reports, null, 1));
      assert.deepEqual(warningCodes(reports), [...(c.warnings ?? [])].sort(), JSON.stringify(reports, null, 1));
      const before = h.db.version;
      readEverything(h.db);
      const result = h.apply(c.cmd, { force: c.force });
      assert.equal(result.result, c.errors.length === 0 ? 'applied' : 'rejected');
      assert.deepEqual(result.reports, reports);
      assert.equal(h.db.version, before + (c.errors.length === 0 ? 1 : 0));
      if (c.then && c.errors.length === 0) c.then(h);
    });
  }
}
