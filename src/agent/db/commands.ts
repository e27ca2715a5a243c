// The commands of the cluster database, as proposers build them. Each
// travels as the `data` of a consensus 'command' entry: the canonical JSON
// of a CommandEnvelope. Inputs are what a person types (names or ids,
// durations as `5s` or ms); validation turns them into records.

import type { AdminRole, FailbackMode, NodeKind, ParameterType, QuorumMode, ResourceState, ResumeFailback } from './schema.js';
import { canonicalJson } from './canonical.js';

/** `500ms`, `5s`, `10m`, `1h`, or a whole number of milliseconds. */
export type DurationInput = string | number;

export interface RestartPolicyInput {
  maxRestarts?: number;
  period?: DurationInput;
  delay?: DurationInput;
  /** False: a resource out of restarts stays Failed instead of failing its group over. */
  failGroupOver?: boolean;
}

export interface GroupSettingsInput {
  /** Node names or ids, most preferred first. */
  preferredOwners?: string[];
  possibleOwners?: string[];
  failoverThreshold?: number;
  failoverPeriod?: DurationInput;
  /** How long a group held Failed past its threshold waits before it is tried again. */
  failoverRetry?: DurationInput;
  failback?: FailbackMode;
  /** `START-END` in hours of the day, e.g. `22-6`; required with failback `window`. */
  failbackWindow?: string | null;
  antiAffinityClasses?: string[];
  priority?: number;
  restart?: RestartPolicyInput;
}

export interface ResourceSettingsInput {
  /** `null`: use the group's restart policy. */
  restart?: RestartPolicyInput | null;
  deadlines?: { start?: DurationInput; stop?: DurationInput; quickCheck?: DurationInput; thoroughCheck?: DurationInput };
  checkIntervals?: { quick?: DurationInput; thorough?: DurationInput };
  possibleOwners?: string[];
  isolate?: boolean;
}

export interface ParameterSpecInput {
  type: ParameterType;
  required?: boolean;
  default?: string;
  description?: string;
}

export type ClusterCommand =
  /** Several properties at once; `null` returns one to its default. */
  | { type: 'property.set'; values: Record<string, string | number | null> }
  | { type: 'node.add'; id: string; name: string; address: string; hostKey: string; incarnation: string; voteWeight?: number; kind?: NodeKind }
  | { type: 'node.remove'; node: string }
  | {
      type: 'node.set'; node: string; name?: string; address?: string; hostKey?: string; incarnation?: string;
      voteWeight?: number; paused?: boolean; drain?: boolean;
      /** Only with `paused: false` on a paused node (a resume): which groups move back to it (default `policy`). */
      failback?: ResumeFailback;
    }
  | { type: 'group.create'; name: string; settings?: GroupSettingsInput }
  | { type: 'group.delete'; name: string }
  | { type: 'group.set'; name: string; settings: GroupSettingsInput }
  | {
      type: 'resource.create'; name: string; group: string; resourceType: string;
      parameters?: Record<string, string>; dependsOn?: string; settings?: ResourceSettingsInput;
    }
  | { type: 'resource.delete'; name: string }
  /** `parameters`: `null` removes one. */
  | { type: 'resource.set'; name: string; parameters?: Record<string, string | null>; settings?: ResourceSettingsInput }
  /** `on`: an expression such as `A and (B or C)`; empty clears the dependencies. */
  | { type: 'resource.depend'; name: string; on: string }
  /** What the group should be; online of an online group (offline of an offline one) changes nothing. */
  | { type: 'group.online'; name: string }
  | { type: 'group.offline'; name: string }
  /** Online, on node `to` (name or id), or on the best node other than its owner when `to` is absent or null. */
  | { type: 'group.move'; name: string; to?: string | null }
  /** Failed resources of the group's current placement become Offline; the leader forgets the group's failures. */
  | { type: 'group.cleanup'; name: string }
  | { type: 'resource.online'; name: string }
  | { type: 'resource.offline'; name: string }
  /** A simulated failure of an online resource, for testing the restart and failover policy. */
  | { type: 'resource.fail'; name: string }
  | { type: 'resource.cleanup'; name: string }
  | { type: 'resourceType.register'; name: string; kind: 'ocf' | 'lsb' | 'plugin'; source: string; parameters?: Record<string, ParameterSpecInput> }
  | { type: 'resourceType.unregister'; name: string }
  /** `ioTimeout` (T) and `watchdogTime` (W) as read from the disk's superblock. */
  | { type: 'disk.add'; id: string; path: string; sizeBytes: number; ioTimeout: DurationInput; watchdogTime: DurationInput }
  | { type: 'disk.remove'; id: string }
  /** `witness`: `disk:PATH` or `share:DIR`; absent keeps the current one where the mode uses one. */
  | { type: 'quorum.set'; mode: QuorumMode; witness?: string | null }
  | { type: 'adminKey.add'; name: string; publicKey: string; fingerprint: string; role: AdminRole }
  | { type: 'adminKey.remove'; name: string }
  /** Each placement takes a new cluster-wide epoch; `expectedEpoch` refuses the change if the group's epoch moved meanwhile. */
  | { type: 'placement.set'; group: string; node: string | null; expectedEpoch?: number }
  /** `epoch`: the placement epoch the report belongs to; required for the pending and online states. */
  | { type: 'resourceState.set'; resource: string; state: ResourceState; node?: string | null; epoch?: number; reason?: string };

export type CommandType = ClusterCommand['type'];

export interface CommandEnvelope {
  cmd: ClusterCommand;
  /** Who asked: an admin key fingerprint (`SHA256:...`) or a node id. */
  actor: string;
  /** Proposer's wall clock (ms since the epoch); apply never reads a clock. */
  at: number;
  /** Lets a client match its request to the audit record and retry safely. */
  requestId?: string;
  /** Turns forceable errors into warnings (recorded). */
  force?: boolean;
}

/** The entry data to propose: canonical, so the same command is the same bytes everywhere. */
export function encodeCommand(envelope: CommandEnvelope): string {
  return canonicalJson(envelope);
}
