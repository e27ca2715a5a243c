// Handlers of cluster-wide commands: properties, quorum, disks, admin keys.

import type { Handler } from './input.js';
import type { AdminRole, QuorumMode, WitnessSpec } from './schema.js';
import { checkPropertyKey, checkTiming, checkTimingChange, effectiveProperties, parsePropertyValue } from './properties.js';
import { checkQuorumRisk, listNames, mountedDiskResources, resourceKind, voterCount } from './queries.js';
import { isKeyFingerprint, isSshPublicKey, parseWitnessSpec, show, sshKeyBlob } from './names.js';
import { sortedValues, sortedWhere } from './schema.js';

const QUORUM_MODES: readonly QuorumMode[] = ['node-majority', 'node-and-witness', 'witness-only'];
const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'operator', 'viewer'];
const MIB = 1024 * 1024;

export const propertySet: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'values']);
  const values = cmd.object('values', true);
  if (!values) return undefined;
  if (values.keys().length === 0) sink.error('E_REQUIRED', 'values must name at least one property', { field: 'values' });
  const next = new Map(state.properties);
  for (const key of values.keys()) {
    const field = values.pathOf(key);
    if (!checkPropertyKey(key, sink, field)) continue;
    const raw = values.get(key);
    if (raw === null) {
      next.delete(key);
      continue;
    }
    const value = parsePropertyValue(key, raw, sink, field);
    if (value !== undefined) next.set(key, value);
  }
  if (sink.hasErrors) return undefined;
  const after = effectiveProperties(next);
  checkTiming(after, sink, 'values.');
  if (!sink.hasErrors) checkTimingChange(effectiveProperties(state.properties), after, sink);
  const mounted = mountedDiskResources(state);
  if (after.fencing === 'none' && effectiveProperties(state.properties).fencing !== 'none' && mounted.length > 0) {
    sink.forceable('E_FENCING_REQUIRED', `disk resources ${listNames(mounted.map((r) => r.name))} mount filesystems, which needs fencing watchdog or external`, {
      field: 'values.fencing',
    });
  }
  return (s) => {
    s.properties = next;
  };
};

export const quorumSet: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'mode', 'witness']);
  const mode = cmd.choice('mode', QUORUM_MODES, true);
  let witness: WitnessSpec | null | undefined = state.quorum.witness;
  if (cmd.get('witness') === null) {
    witness = null;
  } else if (cmd.has('witness')) {
    const text = cmd.string('witness', true);
    witness = text === undefined ? undefined : parseWitnessSpec(text);
    if (text !== undefined && witness === null) {
      cmd.invalid('witness', `witness ${show(text)} is not disk:PATH or share:DIR with an absolute path`);
      witness = undefined;
    }
    if (mode === 'node-majority' && witness) cmd.invalid('witness', 'mode node-majority uses no witness', 'choose node-and-witness or witness-only');
  }
  if (mode === 'node-majority') witness = null;
  else if (mode !== undefined && witness === null) {
    sink.error('E_REQUIRED', `mode ${mode} needs a witness`, { field: 'witness', hint: 'give --witness disk:PATH or share:DIR' });
  }
  if (mode !== undefined) checkQuorumRisk(mode, voterCount(state.nodes.values()), sink, 'mode');
  if (mode === undefined || witness === undefined) return undefined;
  return (s) => {
    s.quorum = { mode, witness };
  };
};

export const diskAdd: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'id', 'path', 'sizeBytes', 'ioTimeout', 'watchdogTime']);
  const id = cmd.name('id', 'disk');
  if (id !== undefined && state.disks.has(id)) sink.error('E_EXISTS', `disk ${id} exists`, { field: 'id' });
  const path = cmd.absolutePath('path', true);
  const other = sortedValues(state.disks).find((d) => d.path === path);
  if (other) sink.error('E_EXISTS', `${path} is already disk ${other.id}`, { field: 'path' });
  // The lease area (superblock, host slots, lease records) needs well under 1 MiB.
  const sizeBytes = cmd.integer('sizeBytes', MIB, Number.MAX_SAFE_INTEGER, true);
  const ioTimeout = cmd.duration('ioTimeout', 100, 60_000, true);
  const watchdogTime = cmd.duration('watchdogTime', 0, 600_000, true);
  if (id === undefined || path === undefined || sizeBytes === undefined || ioTimeout === undefined || watchdogTime === undefined) return undefined;
  return (s) => {
    s.disks.set(id, { id, path, sizeBytes, ioTimeout, watchdogTime });
  };
};

export const diskRemove: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'id']);
  const id = cmd.name('id', 'disk');
  const disk = id === undefined ? undefined : state.disks.get(id);
  if (id !== undefined && !disk) sink.error('E_NOT_FOUND', `no disk ${id}`, { field: 'id' });
  if (!disk || id === undefined) return undefined;
  const users = sortedWhere(state.resources, (r) => resourceKind(state, r) === 'disk' && r.parameters['disk'] === id);
  if (users.length > 0) sink.error('E_IN_USE', `disk ${id} is used by resources ${listNames(users.map((r) => r.name))}`, { field: 'id' });
  const witness = state.quorum.witness;
  if (witness?.kind === 'disk' && witness.path === disk.path) {
    sink.error('E_IN_USE', `disk ${id} holds the quorum witness`, { field: 'id', hint: 'change the quorum settings first' });
  }
  return (s) => {
    s.disks.delete(id);
  };
};

export const adminKeyAdd: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name', 'publicKey', 'fingerprint', 'role']);
  const name = cmd.name('name', 'admin key');
  if (name !== undefined && state.adminKeys.has(name)) sink.error('E_EXISTS', `admin key ${name} exists`, { field: 'name' });
  const publicKey = cmd.string('publicKey', true, 16_384);
  if (publicKey !== undefined && !isSshPublicKey(publicKey)) {
    cmd.invalid('publicKey', 'publicKey is not an OpenSSH public key', 'paste one line of a .pub file: ssh-ed25519 AAAA... comment');
  }
  const fingerprint = cmd.string('fingerprint', true, 100);
  if (fingerprint !== undefined && !isKeyFingerprint(fingerprint)) cmd.invalid('fingerprint', `${show(fingerprint)} is not a SHA256: fingerprint`);
  const role = cmd.choice('role', ADMIN_ROLES, true);
  for (const other of sortedValues(state.adminKeys)) {
    if (publicKey !== undefined && sshKeyBlob(other.publicKey) === sshKeyBlob(publicKey)) sink.error('E_EXISTS', `this key is already admin key ${other.name}`, { field: 'publicKey' });
    if (other.fingerprint === fingerprint) sink.error('E_EXISTS', `fingerprint ${fingerprint} is already admin key ${other.name}`, { field: 'fingerprint' });
  }
  if (name === undefined || publicKey === undefined || fingerprint === undefined || role === undefined) return undefined;
  return (s) => {
    s.adminKeys.set(name, { name, publicKey: publicKey.trim(), fingerprint, role });
  };
};

export const adminKeyRemove: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name']);
  const name = cmd.name('name', 'admin key');
  const key = name === undefined ? undefined : state.adminKeys.get(name);
  if (name !== undefined && !key) sink.error('E_NOT_FOUND', `no admin key ${name}`, { field: 'name' });
  if (!key || name === undefined) return undefined;
  if (key.role === 'admin' && sortedValues(state.adminKeys).filter((k) => k.role === 'admin').length === 1) {
    sink.forceable('E_LAST_ADMIN', `${name} is the last admin key: nobody could change the cluster over SSH afterwards`, { field: 'name' });
  }
  return (s) => {
    s.adminKeys.delete(name);
  };
};
