// Prints the lease guard's measured λ and K as one JSON object (not a test):
//   node dist-NAME/test/guard/measure.js [latencySamples=200] [killSamples=50] [endToEndSamples=20]
// guardLatency: lateness of the deadline timer in this process.
// killTime: cgroup.kill to an empty cgroup, 10 sleeping processes.
// endToEnd: the guard process itself, lease deadline to its group killed and
//   one address undone (in a network namespace), as its status reports them.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultLeaseTiming } from '../../src/agent/core/lease-config.js';
import { CgroupTree } from '../../src/agent/guard/cgroups.js';
import { monotonicMs } from '../../src/agent/guard/clock.js';
import { GuardClient } from '../../src/agent/guard/guard-client.js';
import { guardSocketPath } from '../../src/agent/guard/guard-protocol.js';
import { distribution, measureGuardLatency, measureKillTime } from '../../src/agent/guard/measure.js';
import type { Distribution } from '../../src/agent/guard/measure.js';
import { UndoJournal } from '../../src/agent/guard/undo-journal.js';
import { cgroupSkip, killChildren, removeCgroupRoot, sleepers, startGuard, startInGroup, stopGuard, testCgroupRoot, waitFor } from './helpers.js';

const exec = promisify(execFile);

async function endToEnd(samples: number): Promise<{ lateness: Distribution; kill: Distribution; undo: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'fcm-guard-measure-'));
  const root = testCgroupRoot();
  const ns = `fcm-guard-measure-${process.pid}`;
  const withNetns = await exec('ip', ['netns', 'add', ns]).then(() => true, () => false);
  if (withNetns) await exec('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
  const guard = await startGuard(['--state-dir', stateDir, '--node', 'measure', '--cgroup-root', root]);
  const lateness: number[] = [];
  const kill: number[] = [];
  try {
    const client = await GuardClient.connect(guardSocketPath(stateDir));
    const tree = await CgroupTree.open(root);
    for (let i = 0; i < samples; i++) {
      await client.lease(monotonicMs() + 10_000, ['g']);
      await startInGroup(tree, 'g', sleepers(10), 10);
      if (withNetns) {
        await new UndoJournal(stateDir, 'g').record({ kind: 'ip-address', dev: 'd0', address: '10.78.0.1/24', netns: ns });
        await exec('ip', ['-n', ns, 'addr', 'add', '10.78.0.1/24', 'dev', 'd0']);
      }
      const deadline = monotonicMs() + 100;
      await client.lease(deadline, ['g']);
      await waitFor(async () => (await client.status()).lastExpiry?.deadlineMs === deadline, 10_000, 'the expiry');
      const record = (await client.status()).lastExpiry;
      if (record === null || record.latenessMs === null) throw new Error('no expiry recorded');
      lateness.push(record.latenessMs);
      kill.push(record.killMs);
    }
    client.close();
  } finally {
    await stopGuard(guard);
    killChildren();
    await removeCgroupRoot(root);
    if (withNetns) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
  return { lateness: distribution(lateness), kill: distribution(kill), undo: withNetns ? 'one ip-address in a netns' : 'none (no ip netns)' };
}

const [latencySamples = 200, killSamples = 50, e2eSamples = 20] = process.argv.slice(2).map(Number);
const result: Record<string, unknown> = {
  configured: { guardLatencyMs: defaultLeaseTiming.guardLatencyMs, killTimeMs: defaultLeaseTiming.killTimeMs },
  guardLatency: await measureGuardLatency(latencySamples),
};
if (cgroupSkip === false) {
  result.killTime = await measureKillTime(killSamples, { processes: 10 });
  result.endToEnd = await endToEnd(e2eSamples);
} else result.skipped = cgroupSkip;
process.stdout.write(`${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v))}\n`);
