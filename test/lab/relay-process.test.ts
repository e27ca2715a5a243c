import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startRelayProcess } from '../../src/lab/relay-process.js';
import { controlRelay } from '../../src/lab/relay-control.js';
import { isSameProcess } from '../../src/os/process-identity.js';
import { stopProcess } from '../../src/lab/processes.js';
import { allocatePorts } from '../../src/lab/lab-state.js';
import { LabError } from '../../src/lab/lab-error.js';
import type { RelayConfig } from '../../src/lab/relay-config.js';
import { assertRefused, dial, echoes, startEchoServer, withTempDir } from './helpers.js';

/** PIDs of every process whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

test('the relay runs as a detached process, obeys its control socket, and stops by PID leaving nothing behind', async () => {
  await withTempDir(async (dir) => {
    const echo1 = await startEchoServer('127.0.1.1');
    const echo2 = await startEchoServer('127.0.1.2');
    try {
      const [public1, public2] = (await allocatePorts(['127.0.0.1', '127.0.0.1'])) as [number, number];
      const config: RelayConfig = {
        routes: [
          { nodeId: 'n1', publicHost: '127.0.0.1', publicPort: public1, targetHost: echo1.host, targetPort: echo1.port, sourceHost: echo1.host },
          { nodeId: 'n2', publicHost: '127.0.0.1', publicPort: public2, targetHost: echo2.host, targetPort: echo2.port, sourceHost: echo2.host },
        ],
        controlSocket: join(dir, 'control.sock'),
        pidFile: join(dir, 'relay.pid'),
      };
      const configFile = join(dir, 'relay.json');
      const record = await startRelayProcess(config, { configFile, logFile: join(dir, 'relay.log') });
      assert.deepEqual(JSON.parse(await readFile(config.pidFile, 'utf8')), record);
      assert.deepEqual(processesMentioning(configFile), [record.pid]);

      const c = await dial(public2, '127.0.1.1');
      await echoes(c, 'through the relay process');
      await controlRelay(config.controlSocket, { op: 'cut', node: 'n1' });
      assert.equal(await c.closed, 'ECONNRESET');
      await assertRefused(public2, '127.0.1.1');
      await controlRelay(config.controlSocket, { op: 'heal', node: 'n1' });
      const again = await dial(public2, '127.0.1.1');
      await echoes(again, 'healed');

      assert.equal(await stopProcess(record, { graceMs: 5000 }), 'terminated');
      assert.equal(isSameProcess(record), false);
      assert.equal(await again.closed, 'ECONNRESET');
      assert.deepEqual(processesMentioning(configFile), []);
      await assert.rejects(stat(config.pidFile), { code: 'ENOENT' });
      await assert.rejects(stat(config.controlSocket), { code: 'ENOENT' });
      assert.match(await readFile(join(dir, 'relay.log'), 'utf8'), /cut n1 \(reset\)[\s\S]*heal n1[\s\S]*SIGTERM: stopping/);
    } finally {
      await echo1.close();
      await echo2.close();
    }
  });
});

test('a relay that cannot start reports E_SPAWN with its own error from the log', async () => {
  await withTempDir(async (dir) => {
    const [taken] = (await allocatePorts(['127.0.0.1'])) as [number];
    const blocker = await startEchoServer('127.0.0.1');
    try {
      const config: RelayConfig = {
        routes: [{ nodeId: 'n1', publicHost: '127.0.0.1', publicPort: blocker.port, targetHost: '127.0.1.1', targetPort: taken, sourceHost: '127.0.1.1' }],
        controlSocket: join(dir, 'control.sock'),
        pidFile: join(dir, 'relay.pid'),
      };
      const configFile = join(dir, 'relay.json');
      await assert.rejects(
        startRelayProcess(config, { configFile, logFile: join(dir, 'relay.log') }),
        (err: unknown) => err instanceof LabError && err.code === 'E_SPAWN' && err.message.includes('E_EXISTS'),
      );
      assert.deepEqual(processesMentioning(configFile), []);
    } finally {
      await blocker.close();
    }
  });
});
