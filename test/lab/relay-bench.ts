// Extra round-trip time through the relay: a 100-byte ping-pong to an echo
// server on 127.0.1.1, directly and through a relay process (as the lab runs
// it), interleaved in batches so machine drift hits both alike.
// Run: node dist/test/lab/relay-bench.js   (prints one JSON object)
import { join } from 'node:path';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { startRelayProcess } from '../../src/lab/relay-process.js';
import { stopProcess } from '../../src/lab/processes.js';
import { allocatePorts } from '../../src/lab/lab-state.js';
import { summarize } from '../bench/stats.js';
import { dial, startEchoServer, withTempDir } from './helpers.js';

const PAYLOAD_BYTES = 100;
const BATCHES = 20;
const PER_BATCH = 250;
const WARMUP = 500;

/** One round trip in µs: write the payload, wait until all of it came back. */
function pingPong(socket: Socket, payload: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const start = process.hrtime.bigint();
    const onData = (chunk: Buffer): void => {
      got += chunk.length;
      if (got < payload.length) return;
      socket.off('data', onData);
      resolve(Number(process.hrtime.bigint() - start) / 1000);
    };
    socket.on('data', onData);
    socket.write(payload);
  });
}

export async function runRelayBenchmark(): Promise<object> {
  return withTempDir(async (dir) => {
    const echo = await startEchoServer('127.0.1.1');
    const [publicPort] = (await allocatePorts(['127.0.0.1'])) as [number];
    const config = {
      routes: [{ nodeId: 'n1', publicHost: '127.0.0.1', publicPort, targetHost: echo.host, targetPort: echo.port, sourceHost: echo.host }],
      controlSocket: join(dir, 'control.sock'),
      pidFile: join(dir, 'relay.pid'),
    };
    const relay = await startRelayProcess(config, { configFile: join(dir, 'relay.json'), logFile: join(dir, 'relay.log') });
    try {
      const direct = connect({ host: echo.host, port: echo.port, localAddress: '127.0.1.2', noDelay: true });
      await new Promise((r) => direct.once('connect', r));
      const relayed = (await dial(publicPort, '127.0.1.2')).socket;
      relayed.setNoDelay(true);
      const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
      for (let i = 0; i < WARMUP; i++) {
        await pingPong(direct, payload);
        await pingPong(relayed, payload);
      }
      const samples = { direct: [] as number[], relay: [] as number[] };
      for (let b = 0; b < BATCHES; b++) {
        for (let i = 0; i < PER_BATCH; i++) samples.direct.push(await pingPong(direct, payload));
        for (let i = 0; i < PER_BATCH; i++) samples.relay.push(await pingPong(relayed, payload));
      }
      direct.destroy();
      relayed.destroy();
      const d = summarize(samples.direct);
      const r = summarize(samples.relay);
      return { unit: 'us', payloadBytes: PAYLOAD_BYTES, direct: d, relay: r, extraP50: Number((r.p50 - d.p50).toFixed(1)), ratioP50: Number((r.p50 / d.p50).toFixed(2)) };
    } finally {
      await stopProcess(relay);
      await echo.close();
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify({ benchmark: 'lab-relay-rtt', ...(await runRelayBenchmark()) })}\n`);
}
