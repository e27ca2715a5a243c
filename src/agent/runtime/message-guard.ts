// Peer messages arrive as untrusted JSON (even an authenticated peer may run
// a different version or be buggy). Only well-formed messages reach the
// core; anything else is dropped and counted, never thrown on.
import type { Entry, Membership, Message, Snapshot } from '../consensus/types.js';

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown): v is string => typeof v === 'string';

function isEntry(v: unknown): v is Entry {
  return isObject(v) && isCount(v.index) && isCount(v.term) && isString(v.data)
    && (v.kind === 'noop' || v.kind === 'command' || v.kind === 'config');
}

function isMembership(v: unknown): v is Membership {
  return isObject(v) && Array.isArray(v.members) && v.members.every((m: unknown) =>
    isObject(m) && isString(m.id) && isString(m.incarnation)
    && (m.kind === 'node' || m.kind === 'witness-agent' || m.kind === 'metadata-witness')
    && (m.role === 'voter' || m.role === 'learner'));
}

function isSnapshot(v: unknown): v is Snapshot {
  return isObject(v) && isString(v.data) && isObject(v.meta)
    && isCount(v.meta.index) && isCount(v.meta.term) && isMembership(v.meta.membership);
}

const bodyChecks: Record<Message['type'], (m: Fields) => boolean> = {
  'prevote': (m) => isCount(m.lastLogIndex) && isCount(m.lastLogTerm),
  'prevote-resp': (m) => typeof m.granted === 'boolean',
  'vote': (m) => isCount(m.lastLogIndex) && isCount(m.lastLogTerm) && typeof m.transfer === 'boolean',
  'vote-resp': (m) => typeof m.granted === 'boolean',
  'append': (m) => isCount(m.prevIndex) && isCount(m.prevTerm) && isCount(m.commit)
    && Array.isArray(m.entries) && m.entries.every(isEntry),
  'append-resp': (m) => typeof m.success === 'boolean' && isCount(m.matchIndex) && isCount(m.hintIndex) && isCount(m.hintTerm),
  'snapshot': (m) => isSnapshot(m.snapshot),
  'snapshot-resp': (m) => isCount(m.matchIndex),
  'heartbeat': (m) => isCount(m.commit) && isCount(m.round),
  'heartbeat-resp': (m) => isCount(m.round),
  'timeout-now': () => true,
};

/** Returns the message if it has the shape of a `Message`, else null. */
export function parsePeerMessage(raw: unknown): Message | null {
  if (!isObject(raw)) return null;
  if (!isString(raw.clusterId) || !isString(raw.from) || !isString(raw.to) || !isCount(raw.term) || !isString(raw.fromIncarnation)) {
    return null;
  }
  const check = Object.hasOwn(bodyChecks, raw.type as string) ? bodyChecks[raw.type as Message['type']] : undefined;
  return check && check(raw) ? (raw as unknown as Message) : null;
}
