// The node's resource monitors: one shared by all resources, plus one per
// resource marked `isolate`, started on its first operation and let go once
// it is offline. Each is watched and replaced by its MonitorClient.

import { failure } from '../types/resource-type.js';
import type { OperationName, OperationResult } from '../types/resource-type.js';
import { MonitorClient } from './monitor-client.js';
import type { MonitorClientOptions } from './monitor-client.js';
import type { ResourceSpec } from './protocol.js';

const SHARED = 'shared';

export class ResourceMonitors {
  private readonly clients = new Map<string, Promise<MonitorClient>>();

  constructor(private readonly options: Omit<MonitorClientOptions, 'name'>) {}

  /**
   * Runs an operation in the resource's monitor. Where a resource runs is
   * decided by `isolate` when the operation is sent: change it while the
   * resource is offline.
   */
  async operate(operation: OperationName, spec: ResourceSpec, deadlineMs?: number): Promise<OperationResult> {
    const key = spec.isolate ? `isolated:${spec.name}` : SHARED;
    let client: MonitorClient;
    try {
      client = await this.client(key);
    } catch (err) {
      return failure('E_MONITOR_UNAVAILABLE', `resource monitor ${key} cannot start: ${(err as Error).message}`, 'hard');
    }
    const result = await client.operate(operation, spec, deadlineMs);
    if (key !== SHARED && result.ok && (operation === 'offline' || operation === 'terminate')) {
      this.clients.delete(key);
      await client.close();
    }
    return result;
  }

  /** Pids of the running monitors by key (`shared`, `isolated:NAME`), for status and tests. */
  async pids(): Promise<Map<string, number | undefined>> {
    const out = new Map<string, number | undefined>();
    for (const [key, client] of this.clients) out.set(key, (await client).pid);
    return out;
  }

  /** Lets go of every monitor: each terminates its resources and exits. */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map(async (c) => (await c).close()));
  }

  private client(key: string): Promise<MonitorClient> {
    let client = this.clients.get(key);
    if (client === undefined) {
      const made = new MonitorClient({ ...this.options, name: key });
      client = made.start().then(() => made);
      // A monitor that cannot start is tried afresh next time.
      client.catch(() => {
        if (this.clients.get(key) === client) this.clients.delete(key);
      });
      this.clients.set(key, client);
    }
    return client;
  }
}
