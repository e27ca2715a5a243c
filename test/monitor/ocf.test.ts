// OCF: exit codes, meta-data, a fake agent written here, Debian's Dummy and
// IPaddr2 run unmodified, and the type catalog.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resourceTypeCatalog } from '../../src/agent/types/catalog.js';
import { actionResult, lsbStatusResult, OCF_EXIT_CODES } from '../../src/agent/types/exit-codes.js';
import { parseOcfDuration, parseOcfMetadata } from '../../src/agent/types/ocf-metadata.js';
import { OcfResourceType } from '../../src/agent/types/ocf-type.js';
import { processIdentity } from '../../src/os/process-identity.js';
import type { OperationResult } from '../../src/agent/types/resource-type.js';
import { parseXml, XmlError } from '../../src/agent/types/xml.js';
import { addressesIn, context, netnsUnavailable, tempDir, waitFor, withNetns } from './helpers.js';

const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat';
const DUMMY = `${HEARTBEAT}/Dummy`;
const IPADDR2 = `${HEARTBEAT}/IPaddr2`;
const NO_AGENTS = 'needs Debian package resource-agents (/usr/lib/ocf/resource.d/heartbeat); CI installs it';

function outcome(result: OperationResult): string {
  return result.ok ? 'ok' : `${result.code}/${result.severity}`;
}

test('OCF exit codes map to results with the right severity', () => {
  const table = [
    ['start', 0, 'ok'],
    ['start', 1, 'E_OCF_ERR_GENERIC/soft'],
    ['start', 2, 'E_OCF_ERR_ARGS/hard'],
    ['start', 3, 'E_OCF_UNIMPLEMENTED/hard'],
    ['start', 4, 'E_OCF_ERR_PERM/hard'],
    ['start', 5, 'E_OCF_NOT_INSTALLED/hard'],
    ['start', 6, 'E_OCF_NOT_CONFIGURED/fatal'],
    ['start', 7, 'E_OCF_NOT_RUNNING/soft'],
    ['monitor', 7, 'E_OCF_NOT_RUNNING/soft'],
    ['monitor', 190, 'ok'],
    // Stopping what is not running reached the goal.
    ['stop', 7, 'ok'],
    ['stop', 1, 'E_OCF_ERR_GENERIC/soft'],
    ['monitor', 42, 'E_OCF_UNKNOWN_STATUS/soft'],
  ] as const;
  for (const [action, status, expected] of table) assert.equal(outcome(actionResult(action, status, 'agent')), expected, `${action} ${status}`);
  assert.equal(outcome(actionResult('start', 5, 'script', 'LSB')), 'E_LSB_NOT_INSTALLED/hard');
  assert.equal(outcome(actionResult('start', 190, 'script', 'LSB')), 'E_LSB_UNKNOWN_STATUS/soft');
  assert.deepEqual(OCF_EXIT_CODES.map((c) => c.status), [0, 1, 2, 3, 4, 5, 6, 7, 190]);
  assert.equal(outcome(lsbStatusResult(0, 's')), 'ok');
  assert.equal(outcome(lsbStatusResult(3, 's')), 'E_LSB_NOT_RUNNING/soft');
  assert.equal(outcome(lsbStatusResult(1, 's')), 'E_LSB_STATUS_FAILED/soft');
});

const FAKE_METADATA = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<!-- a comment with <tags> inside -->
<resource-agent name="Fake" version="0.9">
<version>1.1</version>
<longdesc lang="en">A fake agent for tests.</longdesc>
<shortdesc lang="de">Ein Testagent</shortdesc>
<shortdesc lang="en">Fake agent &amp; friends &#x263A;</shortdesc>
<parameters>
<parameter name="status" required="1" unique="0">
<shortdesc lang="en">exit   status
  of start</shortdesc>
<content type="integer" default="0"/>
</parameter>
<parameter name='envfile' unique='1'>
<longdesc lang="en"><![CDATA[where <the> environment goes]]></longdesc>
<content type="string" default="" />
</parameter>
<parameter name="flag">
<shortdesc lang="en">a boolean</shortdesc>
<content type="boolean" default="false"/>
</parameter>
<parameter name="sleep">
<shortdesc lang="en">seconds start sleeps</shortdesc>
<content type="integer"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s" />
<action name="stop" timeout="20" />
<action name="monitor" timeout="2min" interval="10s" depth="0" />
<action name="meta-data" timeout="5s" />
</actions>
</resource-agent>
`;

test('meta-data is parsed: parameters with types, defaults and flags, actions with timeouts', () => {
  const metadata = parseOcfMetadata(FAKE_METADATA);
  assert.equal(metadata.agent, 'Fake');
  assert.equal(metadata.version, '1.1');
  assert.equal(metadata.summary, 'Fake agent & friends \u263A');
  assert.deepEqual(metadata.parameters, [
    { name: 'status', type: 'integer', required: true, default: '0', description: 'exit status of start', unique: false },
    { name: 'envfile', type: 'string', required: false, default: null, description: 'where <the> environment goes', unique: true },
    { name: 'flag', type: 'string', required: false, default: 'false', description: 'a boolean (boolean)', unique: false },
    { name: 'sleep', type: 'integer', required: false, default: null, description: 'seconds start sleeps', unique: false },
  ]);
  assert.deepEqual(metadata.actions.map((a) => [a.name, a.timeoutMs, a.intervalMs, a.depth]), [
    ['start', 20_000, null, null],
    ['stop', 20_000, null, null],
    ['monitor', 120_000, 10_000, 0],
    ['meta-data', 5000, null, null],
  ]);
  assert.equal(parseOcfDuration('500ms'), 500);
  assert.equal(parseOcfDuration('1h'), 3_600_000);
  assert.equal(parseOcfDuration('soon'), null);
});

test('malformed meta-data is refused with E_XML', () => {
  for (const bad of ['<a><b></a>', '<a>', '<a x=1/>', '<a/><b/>', 'just text', '<parameters/>']) {
    assert.throws(() => parseOcfMetadata(bad), (err: unknown) => err instanceof XmlError && err.code === 'E_XML', bad);
  }
  assert.deepEqual(parseXml('<a x="1" y=\'&lt;2&gt;\'>t<b/>u</a>'), {
    name: 'a', attributes: { x: '1', y: '<2>' }, text: 'tu', children: [{ name: 'b', attributes: {}, children: [], text: '' }],
  });
});

/** An OCF root in a temp dir with the fake agent as ocf:fcmtest:Fake (and Dummy, when installed, as ocf:heartbeat:Dummy). */
async function fakeOcfRoot(dir: string): Promise<string> {
  const root = join(dir, 'ocf');
  const agent = join(root, 'resource.d', 'fcmtest', 'Fake');
  await mkdir(join(root, 'resource.d', 'fcmtest'), { recursive: true });
  await writeFile(agent, `#!/bin/sh
case "$1" in
  meta-data) cat <<'XML'
${FAKE_METADATA}XML
    exit 0 ;;
  start)
    [ -n "$OCF_RESKEY_envfile" ] && env > "$OCF_RESKEY_envfile"
    if [ -n "$OCF_RESKEY_sleep" ]; then echo $$ > "$OCF_RESKEY_envfile.pid"; exec sleep "$OCF_RESKEY_sleep"; fi
    exit "$OCF_RESKEY_status" ;;
  stop) exit 7 ;;
  monitor) exit 7 ;;
  *) exit 3 ;;
esac
`);
  await chmod(agent, 0o755);
  // Helper files beside agents are not agents.
  await writeFile(join(root, 'resource.d', 'fcmtest', '.helper'), '');
  await writeFile(join(root, 'resource.d', 'fcmtest', 'README'), 'not executable');
  if (existsSync(DUMMY)) {
    await mkdir(join(root, 'resource.d', 'heartbeat'));
    await symlink(DUMMY, join(root, 'resource.d', 'heartbeat', 'Dummy'));
  }
  return root;
}

test('an OCF agent gets the OCF environment, its exit codes decide, and a hung action is killed at the deadline', async () => {
  const dir = await tempDir();
  try {
    const agent = join(await fakeOcfRoot(dir), 'resource.d', 'fcmtest', 'Fake');
    const type = new OcfResourceType(agent);
    const envfile = join(dir, 'env');
    const { ctx } = context({ resource: 'fake-1', params: { status: '0', envfile }, outputDir: dir, deadlineMs: 7000 });
    assert.equal(outcome(await type.online(ctx)), 'ok');
    const env = await readFile(envfile, 'utf8');
    for (const line of ['OCF_RESKEY_status=0', `OCF_RESKEY_envfile=${envfile}`, 'OCF_RESOURCE_INSTANCE=fake-1', 'OCF_RESKEY_CRM_meta_timeout=7000',
      `OCF_ROOT=${join(dir, 'ocf')}`, 'OCF_RESOURCE_TYPE=Fake', 'OCF_RESOURCE_PROVIDER=fcmtest', 'OCF_RA_VERSION_MAJOR=1']) {
      assert.match(env, new RegExp(`^${line}$`, 'm'), line);
    }
    // Parameters that are not set are not passed: the agent applies its own defaults.
    assert.doesNotMatch(env, /OCF_RESKEY_flag=/);
    for (const [status, expected] of [['1', 'E_OCF_ERR_GENERIC/soft'], ['5', 'E_OCF_NOT_INSTALLED/hard'], ['6', 'E_OCF_NOT_CONFIGURED/fatal']]) {
      assert.equal(outcome(await type.online(context({ params: { status: status as string }, outputDir: dir }).ctx)), expected);
    }
    assert.equal(outcome(await type.offline(ctx)), 'ok', 'stop exits 7: already stopped');
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_OCF_NOT_RUNNING/soft');
    // A hung start: the monitor aborts at the deadline; the action's process group is killed.
    const hung = context({ params: { status: '0', envfile, sleep: '300' }, outputDir: dir });
    const running = type.online(hung.ctx);
    await waitFor('the hung start', () => existsSync(`${envfile}.pid`));
    const pid = Number((await readFile(`${envfile}.pid`, 'utf8')).trim());
    hung.abort();
    assert.equal(outcome(await running), 'E_DEADLINE/soft');
    await waitFor('the hung start to be killed', () => processIdentity(pid) === undefined, 5000);
    // Validation uses the meta-data schema.
    const problems = await type.validate({ status: 'x', colour: 'red' });
    assert.deepEqual(problems.map((p) => [p.code, p.parameter]), [['E_INVALID_VALUE', 'status'], ['E_UNKNOWN_PARAMETER', 'colour']]);
    assert.deepEqual((await type.validate({})).map((p) => p.code), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the catalog lists the built-in types and the OCF agents with their parameters', async () => {
  const dir = await tempDir();
  try {
    const catalog = await resourceTypeCatalog({ ocfRoot: await fakeOcfRoot(dir) });
    const names = catalog.map((e) => e.name);
    assert.deepEqual(names.slice(0, 2), ['process', 'ip']);
    assert.ok(names.includes('ocf:fcmtest:Fake'));
    assert.equal(names.some((n) => n.includes('README') || n.includes('.helper')), false);
    const fake = catalog.find((e) => e.name === 'ocf:fcmtest:Fake');
    assert.deepEqual(fake?.parameters.map((p) => p.name), ['status', 'envfile', 'flag', 'sleep']);
    assert.equal(fake?.problem, null);
    assert.ok(catalog.find((e) => e.name === 'process')?.parameters.some((p) => p.name === 'command' && p.required));
    if (existsSync(DUMMY)) {
      const dummy = catalog.find((e) => e.name === 'ocf:heartbeat:Dummy');
      assert.deepEqual(dummy?.parameters.map((p) => p.name), ['state', 'fake']);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('OCF Dummy from resource-agents: start, monitor, stop', { skip: existsSync(DUMMY) ? false : NO_AGENTS }, async () => {
  const dir = await tempDir();
  try {
    const type = new OcfResourceType(DUMMY);
    assert.deepEqual((await type.describe()).parameters.map((p) => p.name), ['state', 'fake']);
    const state = join(dir, 'dummy.state');
    const { ctx } = context({ resource: 'dummy', params: { state }, outputDir: dir });
    assert.deepEqual(await type.validate({ state }), []);
    // validate-all is the agent's own check: Dummy refuses a state file it cannot write.
    assert.deepEqual((await type.validate({ state: '/nonexistent/fcm/dummy.state' })).map((p) => p.code), ['E_OCF_ERR_ARGS']);
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_OCF_NOT_RUNNING/soft');
    assert.equal(outcome(await type.online(ctx)), 'ok');
    assert.ok(existsSync(state));
    assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
    assert.equal(outcome(await type.thoroughCheck(ctx)), 'ok');
    assert.equal(outcome(await type.offline(ctx)), 'ok');
    assert.equal(outcome(await type.quickCheck(ctx)), 'E_OCF_NOT_RUNNING/soft');
    assert.equal(outcome(await type.offline(ctx)), 'ok', 'stop is idempotent');
    assert.match(await readFile(join(dir, 'output.log'), 'utf8'), /ocf start/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const ipaddr2Skip = existsSync(IPADDR2) ? netnsUnavailable() : NO_AGENTS;

test('OCF IPaddr2 from resource-agents adds and removes an address in a network namespace', { skip: ipaddr2Skip ?? false }, async () => {
  const dir = await tempDir();
  try {
    await withNetns(async (netns) => {
      // The agent runs unmodified; only the namespace is entered first.
      const wrapper = join(dir, 'IPaddr2');
      await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} ${IPADDR2} "$@"\n`);
      await chmod(wrapper, 0o755);
      const type = new OcfResourceType(wrapper);
      const { ctx } = context({ resource: 'vip', params: { ip: '10.77.0.60', cidr_netmask: '24', nic: 'v0' }, outputDir: dir });
      assert.equal(outcome(await type.online(ctx)), 'ok');
      assert.ok(addressesIn(netns, 'v0').includes('10.77.0.60/24'));
      assert.equal(outcome(await type.quickCheck(ctx)), 'ok');
      assert.equal(outcome(await type.offline(ctx)), 'ok');
      assert.equal(addressesIn(netns, 'v0').includes('10.77.0.60/24'), false);
      assert.equal(outcome(await type.quickCheck(ctx)), 'E_OCF_NOT_RUNNING/soft');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
