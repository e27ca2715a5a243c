// Health probes against real loopback servers and real commands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProbe, runProbe } from '../../src/agent/types/health-probe.js';
import type { Probe } from '../../src/agent/types/health-probe.js';
import { ProcessResourceType } from '../../src/agent/types/process-type.js';
import type { OperationResult } from '../../src/agent/types/resource-type.js';
import { context, killIfSame, recordedProcess, tempDir } from './helpers.js';

function listen(server: Server | HttpServer, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function probe(text: string, outputFile = '/dev/null'): Promise<OperationResult> {
  const parsed = parseProbe(text);
  assert.notEqual(typeof parsed, 'string', `${text} parses`);
  return runProbe(parsed as Probe, { outputFile, containment: null, signal: AbortSignal.timeout(5000) });
}

function code(result: OperationResult): string {
  return result.ok ? 'ok' : result.code;
}

test('probe parameters are parsed or refused with a reason', () => {
  assert.deepEqual(parseProbe('tcp://127.0.0.1:8080'), { kind: 'tcp', host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseProbe('tcp://[::1]:22'), { kind: 'tcp', host: '::1', port: 22 });
  assert.deepEqual(parseProbe("command:test -e '/tmp/a b'"), { kind: 'command', argv: ['test', '-e', '/tmp/a b'] });
  assert.equal((parseProbe('http://localhost:8080/health') as { kind: string }).kind, 'http');
  for (const bad of ['tcp://host', 'ftp://x/y', 'command:', 'command:"open', 'not a url']) {
    assert.equal(typeof parseProbe(bad), 'string', bad);
  }
});

test('a TCP probe passes while a server accepts and fails once it is gone', async () => {
  const server = createServer((socket) => socket.destroy());
  const port = await listen(server);
  assert.equal(code(await probe(`tcp://127.0.0.1:${port}`)), 'ok');
  await close(server);
  assert.equal(code(await probe(`tcp://127.0.0.1:${port}`)), 'E_PROBE_FAILED');
});

test('an HTTP probe passes on 2xx and 3xx and fails on 5xx', async () => {
  let status = 200;
  const server = createHttpServer((_req, res) => {
    res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
    res.end('body');
  });
  const port = await listen(server);
  try {
    assert.equal(code(await probe(`http://127.0.0.1:${port}/health`)), 'ok');
    status = 302;
    assert.equal(code(await probe(`http://127.0.0.1:${port}/health`)), 'ok');
    status = 503;
    const failed = await probe(`http://127.0.0.1:${port}/health`);
    assert.equal(code(failed), 'E_PROBE_FAILED');
    assert.match(failed.ok ? '' : failed.message, /503/);
  } finally {
    server.closeAllConnections();
    await close(server);
  }
});

test('a command probe passes on exit 0 and writes its output to the file', async () => {
  const dir = await tempDir();
  try {
    const flag = join(dir, 'healthy');
    const output = join(dir, 'output.log');
    assert.equal(code(await probe(`command:test -e ${flag}`, output)), 'E_PROBE_FAILED');
    await writeFile(flag, '');
    assert.equal(code(await probe(`command:test -e ${flag}`, output)), 'ok');
    assert.equal(code(await probe('command:sh -c "echo probe-said-this; exit 0"', output)), 'ok');
    assert.equal(code(await probe('command:/nonexistent/probe', output)), 'E_PROBE_FAILED');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process resource with a probe is online only once the probe passes, and its thorough check runs the probe', async () => {
  const dir = await tempDir();
  const server = createServer((socket) => socket.destroy());
  // A port to probe that nothing listens on yet.
  const port = await listen(server);
  await close(server);
  const type = new ProcessResourceType();
  const { ctx, abort } = context({ params: { command: 'sleep 300', probe: `tcp://127.0.0.1:${port}`, probeTimeout: '1s' }, outputDir: dir });
  // The deadline, as the monitor would enforce it: a probe that never passes does not hang the test.
  const giveUp = setTimeout(abort, 20_000);
  let identity;
  try {
    const online = type.online(ctx);
    // The service comes up a little after its process.
    setTimeout(() => void listen(server, port), 300);
    assert.deepEqual(await online, { ok: true });
    identity = await recordedProcess(dir);
    assert.equal(server.listening, true);
    assert.deepEqual(await type.quickCheck(ctx), { ok: true });
    assert.deepEqual(await type.thoroughCheck(ctx), { ok: true });
    await close(server);
    assert.equal(code(await type.thoroughCheck(ctx)), 'E_PROBE_FAILED');
    // With probeLevel quick, the quick check probes as well.
    const quick = context({ params: { ...ctx.params, probeLevel: 'quick' }, outputDir: dir });
    assert.equal(code(await type.quickCheck(quick.ctx)), 'E_PROBE_FAILED');
    assert.deepEqual(await type.offline(ctx), { ok: true });
  } finally {
    clearTimeout(giveUp);
    killIfSame(identity);
    if (server.listening) await close(server);
    await rm(dir, { recursive: true, force: true });
  }
});

/** Pids of processes whose command line contains `text` (NUL between words). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(text);
    } catch {
      return false;
    }
  });
}

test('a command probe whose deadline passes while its output file is being opened is killed, not left running', async () => {
  const dir = await tempDir();
  const mark = `30.${process.pid}${Date.now() % 100000}`;
  try {
    const parsed = parseProbe(`command:sleep ${mark}`);
    assert.notEqual(typeof parsed, 'string');
    const controller = new AbortController();
    const running = runProbe(parsed as Probe, { outputFile: join(dir, 'output.log'), containment: null, signal: controller.signal });
    // runProbe checked the signal and now waits for the file: the deadline passes right then.
    controller.abort();
    const started = performance.now();
    const result = await running;
    assert.equal(result.ok, false);
    assert.ok(performance.now() - started < 10_000, 'it ends at once, not when sleep would');
    assert.deepEqual(processesMentioning(`sleep\0${mark}`), [], 'no probe process is left');
  } finally {
    for (const pid of processesMentioning(`sleep\0${mark}`)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
