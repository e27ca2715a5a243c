// Benchmark: event-loop delay on the sending and the receiving node while a
// large snapshot crosses the bulk lane and heartbeats flow on the control
// lane, with the codec worker (offload) and without it (JSON on the loop).
// The receiver is a child process, so each side's loop is measured alone.
//
//   node dist/test/transport/bulk-lag.bench.js [on|off|both]

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BULK_LIMITS } from '../../src/agent/transport/framed-channel.js';
import { generateNodeKeyPair } from '../../src/agent/transport/keys.js';
import type { NodeKeyPair } from '../../src/agent/transport/keys.js';
import { SshTransport } from '../../src/agent/transport/transport.js';
import type { PeerAddress } from '../../src/agent/transport/transport.js';

const MiB = 1024 * 1024;
/** Frame sizes to send, bytes of JSON (approximately). */
const SIZES = [8 * MiB, 63 * MiB];
const HEARTBEAT_MS = 10;

interface Setup { offload: boolean; keys: Record<'a' | 'b', NodeKeyPair>; senderPort: number }
type ToReceiver = { kind: 'setup'; setup: Setup } | { kind: 'reset' } | { kind: 'report' } | { kind: 'stop' };
type FromReceiver = { kind: 'ready'; port: number } | { kind: 'lag'; lag: Lag };
interface Lag { p50: number; p99: number; max: number; gcMax: number }

/** Event-loop delay since the last reset, and the longest GC pause since `gc.reset`, ms. */
class LoopWatch {
  private readonly histogram = monitorEventLoopDelay({ resolution: 1 });
  private gcMax = 0;

  constructor() {
    this.histogram.enable();
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.gcMax = Math.max(this.gcMax, entry.duration);
    }).observe({ entryTypes: ['gc'] });
  }

  reset(): void {
    this.histogram.reset();
    this.gcMax = 0;
  }

  read(): Lag {
    const h = this.histogram;
    return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, gcMax: this.gcMax };
  }
}

function address(id: 'a' | 'b', port: number, keys: Setup['keys']): PeerAddress {
  return { id, host: '127.0.0.1', port, hostPublicKey: keys[id].publicKey, clientPublicKey: keys[id].publicKey };
}

function startTransport(id: 'a' | 'b', setup: Setup): Promise<SshTransport> {
  const key = setup.keys[id];
  const bulk = setup.offload ? BULK_LIMITS : { maxFrameBytes: BULK_LIMITS.maxFrameBytes, maxQueuedBytes: BULK_LIMITS.maxQueuedBytes };
  return SshTransport.start({
    nodeId: id, listenHost: '127.0.0.1', listenPort: 0, hostPrivateKey: key.privateKey, clientPrivateKey: key.privateKey,
    peers: [], limits: { bulk },
  });
}

/** A snapshot whose state is the JSON text of many small records, as the cluster database's would be. */
function snapshotOf(frameBytes: number): object {
  const records: string[] = [];
  let bytes = 0;
  // JSON of the data string escapes each quote: ~1.2 bytes of frame per byte of state.
  for (let i = 0; bytes < frameBytes / 1.2; i++) {
    const record = JSON.stringify({ id: `group-${i}`, node: `n${i % 5}`, epoch: i, ip: `10.0.${i % 250}.${i % 200}`, mount: `/srv/data${i}` });
    records.push(record);
    bytes += record.length + 1;
  }
  return { type: 'snapshot', snapshot: { meta: { index: 1000, term: 3 }, data: `[${records.join(',')}]` } };
}

async function receiver(): Promise<void> {
  const watch = new LoopWatch();
  let transport: SshTransport | null = null;
  process.on('message', (message: ToReceiver) => {
    void (async () => {
      if (message.kind === 'setup') {
        transport = await startTransport('b', message.setup);
        const t = transport;
        t.updatePeers([address('a', message.setup.senderPort, message.setup.keys), address('b', t.port, message.setup.keys)]);
        t.onMessage((m, from) => {
          const body = m as { type: string; sentAt?: number };
          if (body.type === 'heartbeat') t.send(from, { type: 'heartbeat-resp', sentAt: body.sentAt }, 'control');
          if (body.type === 'snapshot') t.send(from, { type: 'snapshot-resp' }, 'control');
        });
        process.send?.({ kind: 'ready', port: t.port } satisfies FromReceiver);
      } else if (message.kind === 'reset') {
        watch.reset();
      } else if (message.kind === 'report') {
        process.send?.({ kind: 'lag', lag: watch.read() } satisfies FromReceiver);
      } else {
        await transport?.close();
        process.disconnect();
      }
    })();
  });
}

function next(child: ChildProcess, kind: FromReceiver['kind']): Promise<FromReceiver> {
  return new Promise((resolve) => {
    const listener = (message: FromReceiver): void => {
      if (message.kind !== kind) return;
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
  });
}

async function sender(offload: boolean): Promise<void> {
  const [ka, kb] = await Promise.all([generateNodeKeyPair('a'), generateNodeKeyPair('b')]);
  const keys = { a: ka, b: kb };
  const child = fork(fileURLToPath(import.meta.url), ['receiver']);
  const transport = await startTransport('a', { offload, keys, senderPort: 0 });
  child.send({ kind: 'setup', setup: { offload, keys, senderPort: transport.port } } satisfies ToReceiver);
  const { port } = (await next(child, 'ready')) as { port: number };
  transport.updatePeers([address('a', transport.port, keys), address('b', port, keys)]);

  let worstRoundTrip = 0;
  let snapshotLanded: (() => void) | null = null;
  transport.onMessage((m) => {
    const body = m as { type: string; sentAt?: number };
    if (body.type === 'heartbeat-resp' && body.sentAt !== undefined) worstRoundTrip = Math.max(worstRoundTrip, performance.now() - body.sentAt);
    if (body.type === 'snapshot-resp') snapshotLanded?.();
  });
  const heartbeats = setInterval(() => transport.send('b', { type: 'heartbeat', sentAt: performance.now() }, 'control'), HEARTBEAT_MS);
  const watch = new LoopWatch();
  while (!(transport.stats().b?.bulk.up && transport.stats().b?.control.up)) await new Promise((resolve) => setTimeout(resolve, 20));

  for (const size of SIZES) {
    const snapshot = snapshotOf(size);
    const frameBytes = Buffer.byteLength(JSON.stringify(snapshot));
    await new Promise((resolve) => setTimeout(resolve, 300));
    watch.reset();
    worstRoundTrip = 0;
    child.send({ kind: 'reset' } satisfies ToReceiver);
    // The histogram skips the first interval after reset(): let a few pass before the snapshot.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const landed = new Promise<void>((resolve) => (snapshotLanded = resolve));
    const started = performance.now();
    if (!transport.send('b', snapshot, 'bulk')) throw new Error('snapshot dropped');
    const sendCall = performance.now() - started;
    await landed;
    const elapsed = performance.now() - started;
    child.send({ kind: 'report' } satisfies ToReceiver);
    const { lag } = (await next(child, 'lag')) as { lag: Lag };
    const mine = watch.read();
    const show = (l: Lag): string => `p50 ${l.p50.toFixed(1)} p99 ${l.p99.toFixed(1)} max ${l.max.toFixed(1)} ms (GC max ${l.gcMax.toFixed(1)})`;
    console.log(`offload ${offload ? 'on ' : 'off'} ${(frameBytes / MiB).toFixed(1)} MiB frame: send() ${sendCall.toFixed(1)} ms, delivered in ${elapsed.toFixed(0)} ms;`
      + ` sender loop ${show(mine)}; receiver loop ${show(lag)}; worst heartbeat round trip ${worstRoundTrip.toFixed(1)} ms`);
  }
  clearInterval(heartbeats);
  child.send({ kind: 'stop' } satisfies ToReceiver);
  await new Promise((resolve) => child.once('exit', resolve));
  await transport.close();
}

const mode = process.argv[2] ?? 'both';
if (mode === 'receiver') await receiver();
else {
  if (mode !== 'on') await sender(false);
  if (mode !== 'off') await sender(true);
}
