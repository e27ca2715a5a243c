// GroupView and ResourceView values as an agent answers them, for the
// command tests' test agent.
import type { GroupView, ResourceView } from '../../src/client/api.js';

export function resourceView(name: string, extra: Partial<ResourceView> = {}): ResourceView {
  return {
    name, group: 'web', type: 'process', state: 'Offline', desired: 'online', node: null, since: null, reason: null,
    parameters: { command: '/bin/app' }, dependsOn: null, restart: null,
    deadlines: { start: 60_000, stop: 60_000, quickCheck: 10_000, thoroughCheck: 60_000 }, checkIntervals: { quick: 5000, thorough: 60_000 },
    possibleOwners: [], isolate: false, failRequest: 0, cleanupRequest: 0, ...extra,
  };
}

export function groupView(name: string, extra: Partial<GroupView> = {}): GroupView {
  return {
    name, state: 'Offline', desired: 'offline', owner: null, epoch: 0, move: null, preferredOwners: ['node1', 'node2'], possibleOwners: [],
    failoverThreshold: 2, failoverPeriod: 21_600_000, failoverRetry: 3_600_000, failback: 'never', failbackWindow: null, antiAffinityClasses: [], priority: 2000,
    restart: { maxRestarts: 3, period: 900_000, delay: 1000, failGroupOver: true }, cleanupRequest: 0, resources: [], ...extra,
  };
}
