// Health probes of a process resource, written as one parameter:
//   tcp://HOST:PORT            a TCP connection is accepted
//   http://HOST:PORT/PATH      GET answers 2xx or 3xx (https:// likewise, certificate verified)
//   command:COMMAND LINE       the command exits 0 (run without a shell, in the group's containment)

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Containment } from './cgroup-entry.js';
import { splitWords } from './command-line.js';
import { failure, OK } from './resource-type.js';
import type { OperationResult } from './resource-type.js';
import { actionEnv, describeOutcome, runAction } from './run-action.js';

export type Probe =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: URL }
  | { kind: 'command'; argv: string[] };

/** The probe a parameter names, or a string saying what is wrong with it. */
export function parseProbe(text: string): Probe | string {
  if (text.startsWith('command:')) {
    const argv = splitWords(text.slice('command:'.length));
    if (argv === null) return 'the probe command has an unbalanced quote';
    if (argv.length === 0) return 'the probe command is empty';
    return { kind: 'command', argv };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not tcp://HOST:PORT, http(s)://HOST:PORT/PATH or command:COMMAND`;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'http', url };
  if (url.protocol === 'tcp:') {
    const port = Number(url.port);
    if (url.hostname === '' || !Number.isInteger(port) || port < 1) return 'a tcp probe needs a host and a port: tcp://127.0.0.1:8080';
    // URL keeps the brackets of an IPv6 host.
    return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  }
  return `probe scheme ${url.protocol} is not tcp, http, https or command`;
}

export interface ProbeTarget {
  /** Where a command probe's output is appended. */
  outputFile: string;
  containment: Containment | null;
  signal: AbortSignal;
}

/** Run a probe once; a failure is soft (the service may come back). */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<OperationResult> {
  switch (probe.kind) {
    case 'tcp': return tcpProbe(probe.host, probe.port, target.signal);
    case 'http': return httpProbe(probe.url, target.signal);
    case 'command': {
      const outcome = await runAction({
        argv: probe.argv, env: actionEnv(), containment: target.containment, signal: target.signal, outputFile: target.outputFile, label: null,
      });
      if (outcome.kind === 'exited' && outcome.code === 0) return OK;
      return failure('E_PROBE_FAILED', `probe command ${probe.argv[0] ?? ''}: ${describeOutcome(outcome)}`);
    }
  }
}

function tcpProbe(host: string, port: number, signal: AbortSignal): Promise<OperationResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(OK);
    });
    socket.once('error', (err) => {
      socket.destroy();
      resolve(failure('E_PROBE_FAILED', `tcp probe ${host}:${port}: ${err.message}`));
    });
  });
}

function httpProbe(url: URL, signal: AbortSignal): Promise<OperationResult> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', signal, headers: { 'user-agent': 'fcm-health-probe' } }, (res) => {
      const status = res.statusCode ?? 0;
      // The body is not needed: drop the connection instead of reading it.
      res.destroy();
      req.destroy();
      if (status >= 200 && status < 400) resolve(OK);
      else resolve(failure('E_PROBE_FAILED', `http probe ${url.href}: status ${status}`));
    });
    req.once('error', (err) => resolve(failure('E_PROBE_FAILED', `http probe ${url.href}: ${err.message}`)));
    req.end();
  });
}
