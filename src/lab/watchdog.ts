// The lab's emulated watchdog devices (fcm lab up --fencing watchdog). Each
// node's lease guard opens a FIFO as its `--watchdog` device; the emulator
// holds the read end and follows Linux semantics (see Documentation/
// watchdog/watchdog-api in the kernel): opening arms the watchdog, every
// write feeds it, a close right after the magic 'V' disarms it, a close
// without 'V' leaves it armed. An armed watchdog not fed for T_wd fires:
// the emulator then resets the node as a power cut would (watchdog-reset.ts).
//
// The read end is opened O_NONBLOCK and polled: read(2) then never waits,
// so the emulator's event loop never blocks, and its answer tells the
// states apart: data (fed), EAGAIN (a writer has it open, nothing new), 0
// (no writer has it open: never opened, or closed). While the read end is
// open, a guard's open(O_WRONLY) neither blocks nor fails.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { errnoCode } from './lab-error.js';

/**
 * idle: no writer since the emulator started; armed: opened, timer running;
 * disarmed: closed after 'V'; reset: fired, and stays so until a writer
 * opens it again after the reset's writers are gone.
 */
export type WatchdogState = 'idle' | 'armed' | 'disarmed' | 'reset';

/** What one poll saw change. */
export type WatchdogEvent = 'armed' | 'disarmed' | 'closed-armed' | 'expired';

/** Reads per poll at most: a writer flooding the FIFO cannot keep the poll going. */
const MAX_READS_PER_POLL = 16;
const READ_BYTES = 4096;
const MAGIC_CLOSE = 0x56; // 'V'

export class WatchdogDevice {
  state: WatchdogState = 'idle';
  /** When it was last fed or armed (ms of the caller's monotonic clock). */
  lastFedAt = 0;
  /** Whether a writer had the device open at the last poll. */
  private writerOpen = false;
  /** The last byte written was 'V': a close now disarms. */
  private expectClose = false;
  private fd: number | null = null;
  private readonly buffer = Buffer.alloc(READ_BYTES);

  constructor(readonly path: string, readonly timeoutMs: number) {}

  /** Opens the read end (the FIFO must exist). */
  open(): void {
    this.fd ??= openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Closes the read end; nothing fires any more. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Drains what was written since the last poll and returns what changed at `now` (ms); `canFire` false: never 'expired'. */
  poll(now: number, canFire = true): WatchdogEvent[] {
    const events: WatchdogEvent[] = [];
    const { fed, writer } = this.drain();
    const opened = writer && !this.writerOpen;
    // A new writer that wrote nothing yet has not said 'V'.
    if (opened && !fed) this.expectClose = false;
    if (fed || opened) {
      // After a reset only a new writer re-arms: the reset's writers (the killed guard) must be gone first.
      if (this.state !== 'reset' || !this.writerOpen) {
        if (this.state !== 'armed') events.push('armed');
        this.state = 'armed';
        this.lastFedAt = now;
      }
    }
    if (!writer && (this.writerOpen || fed) && this.state === 'armed') {
      if (this.expectClose) {
        this.state = 'disarmed';
        events.push('disarmed');
      } else events.push('closed-armed');
    }
    this.writerOpen = writer;
    if (canFire && this.state === 'armed' && now - this.lastFedAt >= this.timeoutMs) {
      this.state = 'reset';
      events.push('expired');
    }
    return events;
  }

  /** Reads until nothing is left: whether anything was written, and whether a writer still has the device open. */
  private drain(): { fed: boolean; writer: boolean } {
    if (this.fd === null) return { fed: false, writer: false };
    let fed = false;
    for (let i = 0; i < MAX_READS_PER_POLL; i++) {
      let n: number;
      try {
        n = readSync(this.fd, this.buffer, 0, READ_BYTES, null);
      } catch (err) {
        if (errnoCode(err) === 'EAGAIN') return { fed, writer: true };
        throw err;
      }
      if (n === 0) return { fed, writer: false };
      fed = true;
      this.expectClose = this.buffer[n - 1] === MAGIC_CLOSE;
    }
    return { fed, writer: true };
  }
}

export interface WatchdogNode {
  /** Lab id (n1). */
  id: string;
  /** Cluster name (node1). */
  name: string;
  /** The FIFO its guard feeds. */
  device: string;
  /** The node's agent state directory: how a reset finds its processes and cgroups. */
  stateDir: string;
}

export interface NodeWatchdogStatus {
  id: string;
  name: string;
  state: WatchdogState;
  resets: number;
  /** The last reset: when (ISO 8601, wall clock, for display), and how long the watchdog had gone unfed, ms. */
  lastReset: { at: string; unfedMs: number } | null;
}

export interface WatchdogEmulatorOptions {
  nodes: readonly WatchdogNode[];
  timeoutMs: number;
  /** Resets the node as a power cut would; called once per firing, never awaited by the poll. */
  reset: (node: WatchdogNode) => Promise<string>;
  /** Something in status() changed. */
  onChange: () => void;
  log: (line: string) => void;
  /** Resets counted by an earlier life of the emulator, by lab id. */
  resetsBefore?: Readonly<Record<string, number>>;
  /** Poll interval, ms (default 5): how late after T_wd a firing is noticed. */
  pollMs?: number;
}

/** A poll later than this many intervals is logged: firings were noticed that much late. */
const LATE_POLL_FACTOR = 10;

export class WatchdogEmulator {
  private readonly devices: { node: WatchdogNode; device: WatchdogDevice; status: NodeWatchdogStatus }[];
  private timer: NodeJS.Timeout | null = null;
  private lastPollAt = 0;

  constructor(private readonly options: WatchdogEmulatorOptions) {
    this.devices = options.nodes.map((node) => ({
      node,
      device: new WatchdogDevice(node.device, options.timeoutMs),
      status: { id: node.id, name: node.name, state: 'idle', resets: options.resetsBefore?.[node.id] ?? 0, lastReset: null },
    }));
  }

  /** Opens every node's read end and starts polling. */
  start(): void {
    for (const { device } of this.devices) device.open();
    this.lastPollAt = performance.now();
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 5);
  }

  status(): NodeWatchdogStatus[] {
    return this.devices.map((d) => ({ ...d.status }));
  }

  /**
   * Stops polling and closes the read ends: no node is reset for it. A last
   * poll first records what the guards did since (a disarm just before).
   */
  close(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.poll(false);
    for (const { device } of this.devices) device.close();
  }

  private poll(canFire = true): void {
    const now = performance.now();
    const pollMs = this.options.pollMs ?? 5;
    if (now - this.lastPollAt > LATE_POLL_FACTOR * pollMs) this.options.log(`polled ${Math.round(now - this.lastPollAt)} ms after the last poll (event loop delay): firings are noticed that late`);
    this.lastPollAt = now;
    let changed = false;
    for (const entry of this.devices) {
      const events = entry.device.poll(now, canFire);
      if (events.length === 0) continue;
      changed = true;
      entry.status.state = entry.device.state;
      for (const event of events) this.note(entry, event, now);
    }
    if (changed) this.options.onChange();
  }

  private note(entry: WatchdogEmulator['devices'][number], event: WatchdogEvent, now: number): void {
    const { node, device, status } = entry;
    if (event === 'armed') this.options.log(`${node.name}: armed (T_wd ${this.options.timeoutMs} ms)`);
    else if (event === 'disarmed') this.options.log(`${node.name}: disarmed (magic close)`);
    else if (event === 'closed-armed') this.options.log(`${node.name}: closed without 'V': stays armed`);
    else {
      const unfedMs = Math.round(now - device.lastFedAt);
      status.resets++;
      status.lastReset = { at: new Date().toISOString(), unfedMs };
      this.options.log(`${node.name}: RESET: not fed for ${unfedMs} ms (T_wd ${this.options.timeoutMs} ms); reset number ${status.resets}`);
      this.options.reset(node).then(
        (report) => this.options.log(`${node.name}: reset done: ${report}`),
        (err: unknown) => this.options.log(`${node.name}: reset FAILED: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }
}
