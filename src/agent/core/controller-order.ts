// The order in which a group's resources start and stop, from their
// dependency expressions (db/dependency.ts). A resource starts once its
// expression holds over the resources already online ("A and (B or C)");
// it stops only after every resource whose expression names it has stopped,
// so a group goes down in the reverse of the order it came up.

import type { DependencyExpr } from '../db/dependency.js';
import { dependencyNames } from '../db/dependency.js';
import type { ResourceRecord } from '../db/schema.js';

/** The expression holds when the resources in `online` are online; no expression always holds. */
export function dependenciesMet(expr: DependencyExpr | null, online: ReadonlySet<string>): boolean {
  if (expr === null) return true;
  if (expr.op === 'ref') return online.has(expr.name);
  return expr.op === 'and' ? expr.args.every((a) => dependenciesMet(a, online)) : expr.args.some((a) => dependenciesMet(a, online));
}

/**
 * The resources in start order: each after every resource its expression
 * names (both sides of an `or` count, so the order is one that works
 * whichever side comes up), ties by name. A cycle, which the database
 * refuses, would leave its members at the end in name order.
 */
export function startOrder(resources: readonly ResourceRecord[]): ResourceRecord[] {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const placed = new Set<string>();
  const out: ResourceRecord[] = [];
  let progress = true;
  while (out.length < sorted.length && progress) {
    progress = false;
    for (const r of sorted) {
      if (placed.has(r.name)) continue;
      const needs = r.dependsOn === null ? [] : dependencyNames(r.dependsOn).filter((n) => byName.has(n) && n !== r.name);
      if (!needs.every((n) => placed.has(n))) continue;
      placed.add(r.name);
      out.push(r);
      progress = true;
    }
  }
  for (const r of sorted) if (!placed.has(r.name)) out.push(r);
  return out;
}

/** resource → the resources whose expressions name it (they must stop before it does). */
export function dependents(resources: readonly ResourceRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>(resources.map((r) => [r.name, []]));
  for (const r of resources) {
    for (const name of r.dependsOn === null ? [] : dependencyNames(r.dependsOn)) out.get(name)?.push(r.name);
  }
  return out;
}
