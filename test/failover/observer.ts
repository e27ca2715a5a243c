// An outside observer of where groups really run. It listens on a Unix
// socket in a temp dir; every instance of an observed resource
// (observed-resource.ts) connects to it first thing and says
// `{group, node, pid}`, then holds the connection. An instance is active
// from the accept until the kernel closes that socket: the process died,
// however it died. A stopped or hung process still counts.
//
// Times are performance.now() of this process when the event loop saw the
// accept or the close, so whoever runs an Observer must keep its event loop
// free (no spawnSync, no long synchronous work): a blocked loop blurs both
// times by the length of the block.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeHistory } from './history.js';
import type { GroupVerdict, Instance } from './history.js';

/** The longest hello line accepted, bytes: more means it is not an observed resource. */
const MAX_LINE_BYTES = 1024;

/**
 * The node a process runs on, from its cgroup: the guard puts a group's
 * processes in `<cgroup2>/fcm/<nodeId>/<group>`. Null when it is not there
 * (or the process is gone).
 */
export function nodeIdOfProcess(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    // cgroup v2 lines are `0::/path`; the lab's groups live below /fcm/<nodeId>/<group>.
    const path = line.startsWith('0::') ? line.slice(3) : '';
    const match = /\/fcm\/([^/]+)\/[^/]+$/.exec(path);
    if (match !== null) return match[1] as string;
  }
  return null;
}

export interface ObserverOptions {
  /** Node id → node name, to name the node found in a process's cgroup; ids not in it are shown as they are. */
  nodeNames?: ReadonlyMap<string, string>;
}

export class Observer {
  private readonly history: Instance[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  /** Connections that closed without saying who they were. */
  unidentified = 0;

  private constructor(private readonly server: Server, private readonly dir: string, readonly socketPath: string, private readonly options: ObserverOptions) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on `observer.sock` in a new temp dir. */
  static async listen(options: ObserverOptions = {}): Promise<Observer> {
    const dir = await mkdtemp(join(tmpdir(), 'fcm-observer-'));
    const socketPath = join(dir, 'observer.sock');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return new Observer(server, dir, socketPath, options);
  }

  /** Copies of the instances recorded so far, of one group or of all. */
  instances(group?: string): Instance[] {
    return this.history.filter((i) => group === undefined || i.group === group).map((i) => ({ ...i }));
  }

  /** The group's instances active now. */
  active(group: string): Instance[] {
    return this.instances(group).filter((i) => i.closedAt === null);
  }

  judge(): GroupVerdict[] {
    return judgeHistory(this.history, performance.now());
  }

  /**
   * Resolves with `probe`'s first value other than undefined, probed now and
   * after every instance that arrives or ends; rejects after `timeoutMs`.
   */
  until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`observer: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Stops listening, closes every connection (observed resources then exit) and removes the temp dir. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    const connectedAt = performance.now();
    this.sockets.add(socket);
    let instance: Instance | null = null;
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (instance !== null) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > MAX_LINE_BYTES) socket.destroy();
        return;
      }
      instance = this.identify(buffered.slice(0, end), connectedAt);
      if (instance === null) socket.destroy();
      else {
        this.history.push(instance);
        this.notify();
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (instance === null) {
        this.unidentified++;
        return;
      }
      instance.closedAt = performance.now();
      this.notify();
    });
  }

  private identify(line: string, connectedAt: number): Instance | null {
    let hello: { group?: unknown; node?: unknown; pid?: unknown };
    try {
      hello = JSON.parse(line) as typeof hello;
    } catch {
      return null;
    }
    if (typeof hello.group !== 'string' || typeof hello.pid !== 'number') return null;
    let node = typeof hello.node === 'string' ? hello.node : null;
    if (node === null) {
      const id = nodeIdOfProcess(hello.pid);
      node = id === null ? '?' : (this.options.nodeNames?.get(id) ?? id);
    }
    return { group: hello.group, node, pid: hello.pid, connectedAt, closedAt: null };
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
