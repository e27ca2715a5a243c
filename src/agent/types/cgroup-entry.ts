// Starting a command inside its group's containment, and as another user.
// The lease guard owns containment (src/agent/guard/): a cgroup v2 per
// group, or process groups as the fallback. Either way a tiny /bin/sh enters
// the group and then execs the real command, so the command is contained
// before its first instruction and keeps the pid. If entering fails the
// command never runs (exit 125), so no resource process escapes the kill.

import { spawnArgsInCgroup } from '../guard/cgroups.js';
import { spawnArgsInProcessGroup } from '../guard/process-groups.js';

/** Exit status of the guard's wrappers when the group cannot be entered. */
export const CONTAINMENT_ENTRY_FAILED = 125;

/**
 * Where a group's processes go: the group's directory in the guard's
 * containment (GroupContainment.create(group) returns it, `kind` says which
 * containment it is). Plain data, so it crosses to the monitor process.
 */
export interface Containment {
  kind: 'cgroup' | 'process-group';
  dir: string;
}

export interface RunAs {
  name: string;
  /** Primary group, by name or number. */
  group: string;
}

/**
 * argv that runs `argv` as `user` with the user's groups, via util-linux's
 * setpriv, which execs in place (the pid stays). Entering the group needs
 * root, so this goes inside the containment wrapper, never around it.
 */
export function spawnArgsAsUser(user: RunAs, argv: readonly string[]): string[] {
  return ['setpriv', `--reuid=${user.name}`, `--regid=${user.group}`, '--init-groups', '--', ...argv];
}

/** The full argv: optionally as a user, optionally contained. Spawn it with `detached: true`. */
export function wrapArgv(argv: readonly string[], containment: Containment | null, user: RunAs | null = null): string[] {
  const asUser = user === null ? [...argv] : spawnArgsAsUser(user, argv);
  if (containment === null) return asUser;
  return containment.kind === 'cgroup' ? spawnArgsInCgroup(containment.dir, asUser) : spawnArgsInProcessGroup(containment.dir, asUser);
}
