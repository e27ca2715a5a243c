// What really runs where, in true simulated time: a resource's process
// exists on a node from the moment the simulated monitor begins starting
// it until the monitor finishes stopping it, it dies by itself, the lease
// guard kills it, or the node crashes. Every start and end goes to the
// group exclusion checker; nothing here asks the cluster what it believes.
import type { NodeId } from '../../src/agent/consensus/types.js';
import { GroupExclusionChecker } from './checkers/groups.js';
import type { Violation } from './checkers/violation.js';

export interface SimProcess {
  /** Unique in the run, so a late event about an earlier process is told apart. */
  pid: number;
  group: string;
  resource: string;
  since: number;
}

export class ResourceWorld {
  private readonly procs = new Map<NodeId, Map<string, SimProcess>>();
  private readonly checker = new GroupExclusionChecker();
  private nextPid = 1;
  starts = 0;

  constructor(private readonly report: (v: Violation) => void) {}

  /** The resource's process on `node`, if it runs. */
  process(node: NodeId, resource: string): SimProcess | undefined {
    return this.procs.get(node)?.get(resource);
  }

  start(node: NodeId, group: string, resource: string, at: number): SimProcess {
    const running = this.process(node, resource);
    if (running !== undefined) return running;
    const p: SimProcess = { pid: this.nextPid++, group, resource, since: at };
    let here = this.procs.get(node);
    if (here === undefined) this.procs.set(node, (here = new Map()));
    here.set(resource, p);
    this.starts++;
    const v = this.checker.observe({ at, node, group, resource, kind: 'start' });
    if (v !== null) this.report(v);
    return p;
  }

  end(node: NodeId, resource: string, at: number): void {
    const p = this.process(node, resource);
    if (p === undefined) return;
    this.procs.get(node)?.delete(resource);
    this.checker.observe({ at, node, group: p.group, resource, kind: 'end' });
  }

  /** Kills the group's processes on `node` (`group` null: every group's). Returns how many died. */
  kill(node: NodeId, group: string | null, at: number): number {
    const victims = [...(this.procs.get(node)?.values() ?? [])].filter((p) => group === null || p.group === group);
    for (const p of victims) this.end(node, p.resource, at);
    return victims.length;
  }

  /** Resources running on `node`. */
  running(node: NodeId): SimProcess[] {
    return [...(this.procs.get(node)?.values() ?? [])];
  }
}
