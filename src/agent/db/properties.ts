// Cluster properties: the tunables of membership, leases and audit, with
// units, ranges, documented defaults and the cross-field rules from
// ARCHITECTURE.md "The safety rules". Only known keys exist. Profiles
// (`lan`, `wan`, `fast`) change the defaults of the timing properties;
// an explicitly set property wins over its profile.

import { ReportSink } from './report.js';
import { didYouMean } from './suggest.js';
import { formatDuration, parseDuration, show } from './names.js';

export type Fencing = 'none' | 'watchdog' | 'external';
export type Profile = 'lan' | 'wan' | 'fast';

export interface ClusterProperties {
  /** h: leader heartbeat interval (ms). Shorter detects failures sooner, costs traffic. */
  heartbeatInterval: number;
  /** E_min: election timeout is random in [E_min, 2 E_min] (ms); at least 3 heartbeats. */
  electionTimeoutMin: number;
  /** L: node lease (ms); long enough that a leader crash never runs out a healthy node's lease. */
  nodeLease: number;
  /** LL: leader lease (ms); at most E_min (1 - ρ) / (1 + ρ). */
  leaderLease: number;
  /** ρ: bound on monotonic clock rate error (ratio, 0.1 = 10%); smaller only when measured. */
  clockRateBound: number;
  /** λ: how late the lease guard may act after its deadline (ms). */
  guardLatency: number;
  /** K: time to kill a group and undo its kernel state (ms). */
  killTime: number;
  /** Round-trip time the lease arithmetic allows for (ms); `fcm cluster validate` compares it with measurements. */
  rttBudget: number;
  /** How a node that lost its lease is stopped: `none` relies on assumptions A2 and A3. */
  fencing: Fencing;
  /** Which set of timing defaults applies. */
  profile: Profile;
  /** Audit records kept (count); the oldest are dropped. */
  historyLimit: number;
}

export type PropertyKey = keyof ClusterProperties;
export type PropertyValue = number | string;

export type PropertyDef =
  | { key: PropertyKey; kind: 'duration' | 'count'; min: number; max: number; doc: string }
  | { key: PropertyKey; kind: 'ratio'; min: number; max: number; doc: string }
  | { key: PropertyKey; kind: 'enum'; values: readonly string[]; doc: string };

export const PROPERTY_DEFS: readonly PropertyDef[] = [
  { key: 'heartbeatInterval', kind: 'duration', min: 10, max: 10_000, doc: 'h, leader heartbeat interval' },
  { key: 'electionTimeoutMin', kind: 'duration', min: 30, max: 60_000, doc: 'E_min, least election timeout' },
  { key: 'nodeLease', kind: 'duration', min: 100, max: 300_000, doc: 'L, node lease' },
  { key: 'leaderLease', kind: 'duration', min: 10, max: 60_000, doc: 'LL, leader lease' },
  { key: 'clockRateBound', kind: 'ratio', min: 0, max: 0.5, doc: 'ρ, clock rate error bound' },
  { key: 'guardLatency', kind: 'duration', min: 1, max: 10_000, doc: 'λ, lease guard latency' },
  { key: 'killTime', kind: 'duration', min: 1, max: 60_000, doc: 'K, time to kill a group and undo its state' },
  { key: 'rttBudget', kind: 'duration', min: 0, max: 10_000, doc: 'round-trip time allowed for in lease arithmetic' },
  { key: 'fencing', kind: 'enum', values: ['none', 'watchdog', 'external'], doc: 'how a node without a lease is stopped' },
  { key: 'profile', kind: 'enum', values: ['lan', 'wan', 'fast'], doc: 'set of timing defaults' },
  { key: 'historyLimit', kind: 'count', min: 1, max: 1_000_000, doc: 'audit records kept' },
];

export const PROPERTY_KEYS: readonly PropertyKey[] = PROPERTY_DEFS.map((d) => d.key);

/** Profile `lan`: the defaults of ARCHITECTURE.md. */
const LAN: ClusterProperties = {
  heartbeatInterval: 100,
  electionTimeoutMin: 300,
  nodeLease: 1000,
  leaderLease: 240,
  clockRateBound: 0.1,
  guardLatency: 50,
  killTime: 50,
  rttBudget: 2,
  fencing: 'none',
  profile: 'lan',
  historyLimit: 10_000,
};

/** Each profile overrides a few timings of `lan`; every profile satisfies `checkTiming`. */
const PROFILES: Record<Profile, Partial<ClusterProperties>> = {
  lan: {},
  wan: { heartbeatInterval: 300, electionTimeoutMin: 1000, nodeLease: 3500, leaderLease: 800, rttBudget: 100 },
  fast: { heartbeatInterval: 50, electionTimeoutMin: 150, nodeLease: 500, leaderLease: 120, guardLatency: 20, killTime: 20, rttBudget: 1 },
};

export function isPropertyKey(key: string): key is PropertyKey {
  return (PROPERTY_KEYS as readonly string[]).includes(key);
}

export function propertyDef(key: PropertyKey): PropertyDef {
  return PROPERTY_DEFS.find((d) => d.key === key) as PropertyDef;
}

export function propertyDefaults(profile: Profile): ClusterProperties {
  return { ...LAN, ...PROFILES[profile], profile };
}

/** Defaults of the chosen profile overlaid with the explicitly set values. */
export function effectiveProperties(explicit: ReadonlyMap<PropertyKey, PropertyValue>): ClusterProperties {
  const profile = (explicit.get('profile') ?? LAN.profile) as Profile;
  const out = propertyDefaults(profile) as unknown as Record<PropertyKey, PropertyValue>;
  for (const [key, value] of explicit) out[key] = value;
  return out as unknown as ClusterProperties;
}

/** Parses one property value (a duration string or ms, a number, an enum word); undefined after reporting. */
export function parsePropertyValue(key: PropertyKey, raw: unknown, sink: ReportSink, field: string): PropertyValue | undefined {
  const def = propertyDef(key);
  if (def.kind === 'enum') {
    if (typeof raw === 'string' && def.values.includes(raw)) return raw;
    sink.error('E_INVALID_VALUE', `${key} must be one of ${def.values.join(', ')}, not ${show(raw)}`, { field });
    return undefined;
  }
  let value: number;
  if (def.kind === 'duration' && typeof raw === 'string') {
    const parsed = parseDuration(raw, field);
    if (!parsed.ok) {
      sink.add(parsed.report);
      return undefined;
    }
    value = parsed.ms;
  } else if (typeof raw === 'number' || (typeof raw === 'string' && raw.trim() !== '')) {
    value = Number(raw);
  } else {
    value = NaN;
  }
  const whole = def.kind !== 'ratio';
  const unit = def.kind === 'duration' ? formatDuration : String;
  if (!Number.isFinite(value) || (whole && !Number.isSafeInteger(value)) || value < def.min || value > def.max) {
    sink.error('E_INVALID_VALUE', `${key} must be ${whole ? 'a whole' : 'a'} ${def.kind === 'duration' ? 'duration' : 'number'} from ${unit(def.min)} to ${unit(def.max)}, not ${show(raw)}`, { field });
    return undefined;
  }
  return value;
}

/** Rejects unknown keys with a did-you-mean hint; true when `key` is known. */
export function checkPropertyKey(key: string, sink: ReportSink, field: string): key is PropertyKey {
  if (isPropertyKey(key)) return true;
  sink.error('E_UNKNOWN_PROPERTY', `there is no cluster property ${show(key)}`, {
    field,
    hint: didYouMean(key, PROPERTY_KEYS) ?? `known properties: ${PROPERTY_KEYS.join(', ')}`,
  });
  return false;
}

/**
 * The timing rules of "The safety rules": elections need at least three
 * heartbeats, the leader lease must end before any other node can win an
 * election, and a node lease must outlive a leader crash plus an election.
 */
export function checkTiming(p: ClusterProperties, sink: ReportSink, fieldPrefix = ''): void {
  const rho = p.clockRateBound;
  if (p.electionTimeoutMin < 3 * p.heartbeatInterval) {
    sink.error('E_UNSAFE_TIMING', `electionTimeoutMin (${p.electionTimeoutMin} ms) must be at least 3 × heartbeatInterval (${3 * p.heartbeatInterval} ms)`, {
      field: `${fieldPrefix}electionTimeoutMin`,
    });
  }
  const leaderLeaseMax = (p.electionTimeoutMin * (1 - rho)) / (1 + rho);
  if (p.leaderLease > leaderLeaseMax) {
    sink.error('E_UNSAFE_TIMING', `leaderLease (${p.leaderLease} ms) must be at most electionTimeoutMin × (1 - ρ) / (1 + ρ) = ${Math.floor(leaderLeaseMax)} ms`, {
      field: `${fieldPrefix}leaderLease`,
    });
  }
  const nodeLeaseMin = (1 + rho) * (2 * p.heartbeatInterval + 2 * p.electionTimeoutMin + p.guardLatency + p.killTime + 3 * p.rttBudget);
  if (p.nodeLease < nodeLeaseMin) {
    sink.error('E_UNSAFE_TIMING', `nodeLease (${p.nodeLease} ms) must be at least (1 + ρ)(2h + 2 E_min + λ + K + 3 RTT) = ${Math.ceil(nodeLeaseMin)} ms`, {
      field: `${fieldPrefix}nodeLease`,
    });
  }
}

const TIMING_KEYS = ['heartbeatInterval', 'electionTimeoutMin', 'nodeLease', 'leaderLease', 'clockRateBound', 'guardLatency', 'killTime', 'rttBudget'] as const;

/**
 * A timing change is not taken up everywhere at once: each node applies it
 * when its log reaches it, and consensus timing (h, E_min, LL) only when
 * the agent restarts. Until every node has restarted, any mix of old and
 * new values may meet (a leader's new LL against a follower's old E_min),
 * so every mix must keep the rules, not only the new set. One key at a
 * time always does (its old and new sets are both checked); several at
 * once may not. Forceable: when every agent restarts together no mix runs.
 */
export function checkTimingChange(before: ClusterProperties, after: ClusterProperties, sink: ReportSink): void {
  const changed = TIMING_KEYS.filter((key) => before[key] !== after[key]);
  if (changed.length < 2) return;
  for (let mask = 1; mask < 2 ** changed.length - 1; mask++) {
    const fromNew = changed.filter((_, i) => (mask & (1 << i)) !== 0);
    const mix: ClusterProperties = { ...before, ...Object.fromEntries(fromNew.map((key) => [key, after[key]])) };
    const probe = new ReportSink(false);
    checkTiming(mix, probe);
    const problem = probe.reports.find((r) => r.severity === 'error');
    if (problem === undefined) continue;
    const fromOld = changed.filter((key) => !fromNew.includes(key));
    sink.forceable('E_UNSAFE_TIMING_CHANGE', `while nodes take up the change, new ${fromNew.join(', ')} may meet old ${fromOld.join(', ')}: ${problem.message}`, {
      field: `values.${changed[0] as string}`,
      hint: 'change one of them at a time, in an order that keeps every step valid; or force it and restart every agent at once',
    });
    return;
  }
}