// The ip type in a network namespace made for the test, with the guard's
// real undo journal when run through the monitor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MonitorClient } from '../../src/agent/monitor/monitor-client.js';
import type { HealthEvent } from '../../src/agent/monitor/protocol.js';
import { inSubnet, parseCidr } from '../../src/agent/types/ip-address.js';
import type { Cidr } from '../../src/agent/types/ip-address.js';
import { IpResourceType, SEND_UA } from '../../src/agent/types/ip-type.js';
import type { OperationResult, UndoEntry } from '../../src/agent/types/resource-type.js';
import { addressesIn, context, netnsUnavailable, spec, tempDir, waitFor, withNetns } from './helpers.js';

function outcome(result: OperationResult): string {
  return result.ok ? 'ok' : result.code;
}

function hasArping(): boolean {
  return ['/usr/bin/arping', '/usr/sbin/arping', '/bin/arping'].some((p) => existsSync(p));
}

test('addresses with prefix lengths are parsed and matched to subnets', () => {
  const cidr = (text: string): Cidr => parseCidr(text) as Cidr;
  assert.equal(cidr('10.0.0.50/24').family, 4);
  assert.equal(cidr('fd00:0:0::50/64').value, cidr('fd00::50/64').value);
  assert.equal(cidr('::ffff:10.0.0.1/128').value, (0xffffn << 32n) | 0x0a000001n);
  assert.ok(inSubnet(cidr('10.0.0.50/32'), cidr('10.0.0.1/24')));
  assert.equal(inSubnet(cidr('10.0.1.50/32'), cidr('10.0.0.1/24')), false);
  assert.ok(inSubnet(cidr('fd00::50/128'), cidr('fd00::1/64')));
  assert.equal(inSubnet(cidr('fd00:1::50/128'), cidr('fd00::1/64')), false);
  for (const bad of ['10.0.0.50', '10.0.0.50/33', '300.0.0.1/24', 'fd00::1/129', 'host/24']) assert.equal(typeof parseCidr(bad), 'string', bad);
});

test('ip parameters are validated, every problem reported', async () => {
  const problems = await new IpResourceType().validate({ address: '10.0.0.1', interface: 'bad name', netns: 'x/y', mask: '24' });
  assert.deepEqual(problems.map((p) => p.parameter).sort(), ['address', 'interface', 'mask', 'netns']);
  assert.deepEqual(await new IpResourceType().validate({ address: '10.0.0.1/24' }), []);
});

const skip = netnsUnavailable();

test('an IPv4 address is journaled, added, announced, checked and removed', { skip: skip ?? false }, async () => {
  const dir = await tempDir();
  try {
    await withNetns(async (netns) => {
      const type = new IpResourceType();
      const journal: { entry: UndoEntry; presentWhenRecorded: boolean }[] = [];
      const { ctx, logs } = context({
        resource: 'vip', params: { address: '10.77.0.50/24', netns }, outputDir: dir,
        undo: async (entry) => {
          journal.push({ entry, presentWhenRecorded: addressesIn(netns, 'v0').includes('10.77.0.50/24') });
        },
      });
      assert.equal(outcome(await type.quickCheck(ctx)), 'E_ADDRESS_MISSING');
      // No interface given: the one whose subnet holds the address (v0, 10.77.0.1/24).
      assert.equal(outcome(await type.online(ctx)), 'ok');
      assert.ok(addressesIn(netns, 'v0').includes('10.77.0.50/24'));
      assert.deepEqual(journal, [{ entry: { kind: 'ip-address', dev: 'v0', address: '10.77.0.50/24', netns }, presentWhenRecorded: false }]);
      assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
      assert.equal(outcome(await type.thoroughCheck(ctx)), 'ok');
      assert.equal(outcome(await type.online(ctx)), 'ok', 'online again is fine');
      // The announcement runs in the background and logs how it went.
      await waitFor('the announcement', () => logs.some((l) => /announced/.test(l.msg)));
      assert.equal(logs.some((l) => l.msg === 'address announced'), hasArping(), 'announced exactly when arping is installed');
      if (hasArping()) assert.match(await readFile(join(dir, 'output.log'), 'utf8'), /Sent 1 probes/, 'gratuitous ARP sent');
      assert.equal(outcome(await type.offline(ctx)), 'ok');
      assert.equal(addressesIn(netns, 'v0').includes('10.77.0.50/24'), false);
      assert.equal(outcome(await type.quickCheck(ctx)), 'E_ADDRESS_MISSING');
      assert.equal(outcome(await type.offline(ctx)), 'ok', 'offline again is fine');
      // An address in no interface's subnet needs the interface named.
      const elsewhere = context({ params: { address: '192.0.2.10/24', netns }, outputDir: dir });
      assert.equal(outcome(await type.online(elsewhere.ctx)), 'E_NO_INTERFACE');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an IPv6 address is added without duplicate detection and announced', { skip: skip ?? false }, async () => {
  const dir = await tempDir();
  try {
    await withNetns(async (netns) => {
      const type = new IpResourceType();
      const { ctx, logs } = context({ params: { address: 'fd00:77::50/64', interface: 'v0', netns }, outputDir: dir });
      assert.equal(outcome(await type.online(ctx)), 'ok');
      assert.ok(addressesIn(netns, 'v0').includes('fd00:77::50/64'));
      assert.equal(outcome(await type.thoroughCheck(ctx)), 'ok');
      await waitFor('the announcement', () => logs.some((l) => /announced/.test(l.msg)));
      assert.equal(logs.some((l) => l.msg === 'address announced'), existsSync(SEND_UA), 'announced with send_ua exactly when it is installed');
      assert.equal(outcome(await type.offline(ctx)), 'ok');
      assert.equal(addressesIn(netns, 'v0').includes('fd00:77::50/64'), false);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('through the monitor, the address is recorded in the guard\'s undo journal before it is added', { skip: skip ?? false }, async () => {
  const dir = await tempDir();
  const events: HealthEvent[] = [];
  const client = new MonitorClient({ name: 'shared', heartbeatMs: 100, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, onHealth: (e) => events.push(e) });
  try {
    await client.start();
    await withNetns(async (netns) => {
      const vip = spec('vip', { name: 'ip', kind: 'ip', source: null }, { address: '10.77.0.51/24', interface: 'v0', netns }, dir, { undoStateDir: join(dir, 'state') });
      assert.equal(outcome(await client.operate('online', vip)), 'ok');
      const lines = (await readFile(join(dir, 'state', 'undo', 'g1.jsonl'), 'utf8')).trim().split('\n');
      assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), [{ kind: 'ip-address', dev: 'v0', address: '10.77.0.51/24', netns }]);
      assert.equal(outcome(await client.operate('offline', vip)), 'ok');
      assert.equal(addressesIn(netns, 'v0').includes('10.77.0.51/24'), false);
    });
    assert.deepEqual(events, []);
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
});
