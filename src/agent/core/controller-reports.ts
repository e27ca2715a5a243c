// Resource state reports: the transitions the cluster database accepts
// (db/cmd-placement.ts), and the shortest way from the state it shows to
// the state a node knows, so a lost report can be made good later.

import { RESOURCE_TRANSITIONS } from '../db/cmd-placement.js';
import type { ResourceState } from '../db/schema.js';

/** States to report, in order, to take the database from `from` to `to`; empty when equal or unreachable. */
export function transitionPath(from: ResourceState, to: ResourceState): ResourceState[] {
  if (from === to) return [];
  const previous = new Map<ResourceState, ResourceState>([[from, from]]);
  const queue: ResourceState[] = [from];
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i] as ResourceState;
    for (const next of RESOURCE_TRANSITIONS[at]) {
      if (previous.has(next)) continue;
      previous.set(next, at);
      if (next === to) {
        const path: ResourceState[] = [to];
        for (let s = at; s !== from; s = previous.get(s) as ResourceState) path.unshift(s);
        return path;
      }
      queue.push(next);
    }
  }
  return [];
}
