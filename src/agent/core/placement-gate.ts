// Safety rule 4's one door into placement. This is the only code that
// builds a `placement.set` naming a node (the `StartCommand` type cannot be
// made elsewhere without a cast), and it builds one only when the lease
// granter's answer for (group, node), read now, has no blockers. Taking a
// group off a node needs no permission: placed nowhere, it runs nowhere.

import type { NodeId } from '../consensus/types.js';
import type { PlaceBlocker } from './lease-granter.js';
import type { PlaceAnswer, StartCommand, StopCommand } from './placement-decisions.js';

export type Admission =
  | { ok: true; command: StartCommand }
  | { ok: false; blockers: PlaceBlocker[] };

export function admitStart(
  placeable: (group: string, node: NodeId) => PlaceAnswer,
  group: string,
  node: NodeId,
  expectedEpoch: number,
): Admission {
  const answer = placeable(group, node);
  // A blocker outweighs `ok`: an inconsistent answer never places.
  if (!answer.ok || answer.blockers.length > 0) return { ok: false, blockers: answer.blockers };
  const command = { type: 'placement.set', group, node, expectedEpoch } as StartCommand;
  return { ok: true, command };
}

export function stopCommand(group: string, expectedEpoch: number): StopCommand {
  return { type: 'placement.set', group, node: null, expectedEpoch };
}

/** When every blocker lapses by itself (local ms), or null when one never does. */
export function blockedUntil(blockers: readonly PlaceBlocker[]): number | null {
  let until = -Infinity;
  for (const b of blockers) {
    if (b.reason === 'not-granting') return null;
    until = Math.max(until, b.until);
  }
  return until === -Infinity ? null : until;
}
