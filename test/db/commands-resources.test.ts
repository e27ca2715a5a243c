// Table-driven cases for group, resource, dependency and resource type commands.
import assert from 'node:assert/strict';
import { formatDependency } from '../../src/agent/db/dependency.js';
import type { DependencyExpr } from '../../src/agent/db/dependency.js';
import { addNode, runCases } from './fixture.js';
import type { Harness } from './fixture.js';

function dependsOn(h: Harness, name: string): string | null {
  const expr = h.db.getResource(name)?.dependsOn;
  return expr ? formatDependency(expr as DependencyExpr) : null;
}

runCases('group.create', [
  {
    name: 'all settings',
    cmd: {
      type: 'group.create', name: 'mail',
      settings: {
        preferredOwners: ['beta', 'n1'], possibleOwners: ['alpha', 'beta'], failoverThreshold: 5, failoverPeriod: '2h', failoverRetry: '30s',
        failback: 'window', failbackWindow: '22-6', antiAffinityClasses: ['sql'], priority: 3000,
        restart: { maxRestarts: 2, period: '10m', delay: '500ms', failGroupOver: false },
      },
    },
    errors: [],
    then: (h) => assert.deepEqual(h.db.getGroup('mail'), {
      name: 'mail', preferredOwners: ['n2', 'n1'], possibleOwners: ['n1', 'n2'], failoverThreshold: 5, failoverPeriod: 7_200_000, failoverRetry: 30_000,
      failback: 'window', failbackWindow: { startHour: 22, endHour: 6 }, antiAffinityClasses: ['sql'], priority: 3000,
      restart: { maxRestarts: 2, period: 600_000, delay: 500, failGroupOver: false }, desired: 'offline', move: null, cleanupRequest: 0,
    }),
  },
  { name: 'exists', cmd: { type: 'group.create', name: 'web' }, errors: ['E_EXISTS'] },
  { name: 'bad name', cmd: { type: 'group.create', name: 'my group' }, errors: ['E_INVALID_NAME'] },
  {
    name: 'every settings problem at once',
    setup: [addNode(4, 'wit', { kind: 'witness-agent' })],
    cmd: {
      type: 'group.create', name: 'mail',
      settings: {
        preferredOwners: ['zeta', 'wit', 'alpha', 'n1'], failoverThreshold: -1, failoverPeriod: '1x', failoverRetry: 0, failback: 'sometimes',
        antiAffinityClasses: ['ok', 'not ok'], priority: 5000, restart: { maxRestarts: 1000, delay: 'x', failGroupOver: 'no' }, prefered: [],
      },
    },
    errors: [
      'E_NOT_FOUND', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_DURATION', 'E_INVALID_VALUE', 'E_INVALID_VALUE',
      'E_INVALID_NAME', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_DURATION', 'E_INVALID_VALUE', 'E_UNKNOWN_FIELD',
    ],
  },
  { name: 'window failback needs a window', cmd: { type: 'group.create', name: 'g', settings: { failback: 'window' } }, errors: ['E_REQUIRED'] },
  { name: 'a window without window failback', cmd: { type: 'group.create', name: 'g', settings: { failbackWindow: '1-2' } }, errors: ['E_INVALID_VALUE'] },
  { name: 'a window of no hours', cmd: { type: 'group.create', name: 'g', settings: { failback: 'window', failbackWindow: '3-3' } }, errors: ['E_INVALID_VALUE'] },
  {
    name: 'preferred owner that is not possible',
    cmd: { type: 'group.create', name: 'g', settings: { possibleOwners: ['alpha'], preferredOwners: ['beta'] } },
    errors: ['E_INVALID_VALUE'],
  },
]);

runCases('group.set / group.delete', [
  {
    name: 'set merges',
    cmd: { type: 'group.set', name: 'web', settings: { priority: 1000, restart: { delay: '2s' } } }, errors: [],
    then: (h) => {
      const g = h.db.getGroup('web');
      assert.deepEqual([g?.priority, g?.restart, g?.preferredOwners], [1000, { maxRestarts: 3, period: 900_000, delay: 2000, failGroupOver: true }, ['n1', 'n2']]);
    },
  },
  {
    name: 'leaving window failback drops the window',
    setup: [{ type: 'group.set', name: 'web', settings: { failback: 'window', failbackWindow: '1-5' } }],
    cmd: { type: 'group.set', name: 'web', settings: { failback: 'immediate' } }, errors: [],
    then: (h) => assert.equal(h.db.getGroup('web')?.failbackWindow, null),
  },
  {
    name: 'possible owners that exclude the current owner warn',
    setup: [{ type: 'placement.set', group: 'web', node: 'gamma' }],
    cmd: { type: 'group.set', name: 'web', settings: { possibleOwners: ['alpha', 'beta'] } }, errors: [], warnings: ['E_NOT_POSSIBLE_OWNER'],
  },
  {
    name: 'failoverRetry: a new group waits 1h; set, it is the group\'s own',
    cmd: { type: 'group.set', name: 'web', settings: { failoverRetry: 3000 } }, errors: [],
    then: (h) => assert.deepEqual([h.db.getGroup('web')?.failoverRetry, h.db.getGroup('db')?.failoverRetry], [3000, 3_600_000]),
  },
  { name: 'failoverRetry 0: no hold is not a retry period', cmd: { type: 'group.set', name: 'web', settings: { failoverRetry: '0s' } }, errors: ['E_INVALID_VALUE'] },
  { name: 'failoverRetry never: not a duration', cmd: { type: 'group.set', name: 'web', settings: { failoverRetry: 'never' } }, errors: ['E_INVALID_DURATION'] },
  { name: 'failoverRetry past 30 days', cmd: { type: 'group.set', name: 'web', settings: { failoverRetry: '721h' } }, errors: ['E_INVALID_VALUE'] },
  { name: 'failoverRetry not a whole number of ms', cmd: { type: 'group.set', name: 'web', settings: { failoverRetry: 1500.5 } }, errors: ['E_INVALID_VALUE'] },
  { name: 'set nothing', cmd: { type: 'group.set', name: 'web', settings: {} }, errors: ['E_REQUIRED'] },
  { name: 'set unknown', cmd: { type: 'group.set', name: 'nope', settings: { priority: 1 } }, errors: ['E_NOT_FOUND'] },
  {
    name: 'delete empty', setup: [{ type: 'group.create', name: 'g' }, { type: 'placement.set', group: 'g', node: 'n1' }],
    cmd: { type: 'group.delete', name: 'g' }, errors: [],
    then: (h) => assert.equal(h.db.getPlacement('g'), undefined),
  },
  { name: 'delete with resources', cmd: { type: 'group.delete', name: 'web' }, errors: ['E_IN_USE'] },
  {
    name: 'delete with resources, forced', cmd: { type: 'group.delete', name: 'web' }, force: true, errors: [], warnings: ['E_IN_USE'],
    then: (h) => assert.deepEqual(
      [h.db.getResource('ip1'), h.db.getResourceState('app'), h.db.getResourceRequest('app'), h.db.listResources('web')],
      [undefined, undefined, undefined, []],
    ),
  },
  {
    name: 'delete with online resources',
    setup: [
      { type: 'placement.set', group: 'db', node: 'n1' },
      { type: 'resourceState.set', resource: 'disk1', state: 'OnlinePending', node: 'n1', epoch: 1 },
    ],
    cmd: { type: 'group.delete', name: 'db' }, errors: ['E_IN_USE', 'E_NOT_OFFLINE'],
  },
]);

runCases('resource.create', [
  {
    name: 'with settings and a dependency',
    cmd: {
      type: 'resource.create', name: 'web-srv', group: 'web', resourceType: 'process', parameters: { command: 'nginx', user: 'www' },
      dependsOn: 'ip1 and (app or ip1)',
      settings: { restart: { maxRestarts: 1 }, deadlines: { start: '2m' }, checkIntervals: { quick: '1s' }, possibleOwners: ['alpha'], isolate: true },
    },
    errors: [],
    then: (h) => {
      assert.deepEqual(h.db.getResource('web-srv'), {
        name: 'web-srv', group: 'web', type: 'process', parameters: { command: 'nginx', user: 'www' },
        dependsOn: { op: 'and', args: [{ op: 'ref', name: 'ip1' }, { op: 'or', args: [{ op: 'ref', name: 'app' }, { op: 'ref', name: 'ip1' }] }] },
        restart: { maxRestarts: 1, period: 900_000, delay: 0, failGroupOver: true },
        deadlines: { start: 120_000, stop: 60_000, quickCheck: 10_000, thoroughCheck: 60_000 },
        checkIntervals: { quick: 1000, thorough: 60_000 }, possibleOwners: ['n1'], isolate: true,
      });
      assert.deepEqual(h.db.getResourceState('web-srv'), { resource: 'web-srv', state: 'Offline', node: null, epoch: 0, since: h.at, reason: null });
      assert.deepEqual(h.db.getResourceRequest('web-srv'), { resource: 'web-srv', desired: 'online', failRequest: 0, cleanupRequest: 0 });
    },
  },
  {
    name: 'registered OCF type with defaults',
    setup: [{ type: 'resourceType.register', name: 'IPaddr2', kind: 'ocf', source: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2', parameters: { ip: { type: 'string', required: true }, cidr_netmask: { type: 'integer', default: '24' } } }],
    cmd: { type: 'resource.create', name: 'vip', group: 'web', resourceType: 'IPaddr2', parameters: { ip: '10.0.0.99' } },
    errors: [],
  },
  {
    name: 'every problem at once',
    cmd: { type: 'resource.create', name: 'app', group: 'nogroup', resourceType: 'proces', parameters: { cmd: 'x' }, dependsOn: 'a and', extra: 1 },
    errors: ['E_EXISTS', 'E_NOT_FOUND', 'E_NOT_FOUND', 'E_DEPENDENCY_SYNTAX', 'E_UNKNOWN_FIELD'],
  },
  {
    name: 'parameters against the schema',
    cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'process', parameters: { comand: 'x', 'bad key': 'y' } },
    errors: ['E_UNKNOWN_PARAMETER', 'E_INVALID_NAME', 'E_MISSING_PARAMETER'],
  },
  {
    name: 'typed parameter values',
    setup: [{ type: 'resourceType.register', name: 't', kind: 'plugin', source: '/opt/t.js', parameters: { n: { type: 'integer' }, b: { type: 'boolean' }, d: { type: 'duration' } } }],
    cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 't', parameters: { n: '1.5', b: 'yes', d: '5' } },
    errors: ['E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE'],
  },
  { name: 'reserved word', cmd: { type: 'resource.create', name: 'OR', group: 'web', resourceType: 'ip', parameters: { address: '10.0.0.1/24' } }, errors: ['E_INVALID_NAME'] },
  { name: 'depends on itself', cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'ip', parameters: { address: 'a' }, dependsOn: 'ip1 or x' }, errors: ['E_DEPENDENCY_CYCLE'] },
  { name: 'depends outside its group', cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'ip', parameters: { address: 'a' }, dependsOn: 'disk1' }, errors: ['E_DEPENDENCY_OUTSIDE_GROUP'] },
  { name: 'depends on nothing known', cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'ip', parameters: { address: 'a' }, dependsOn: 'ghost' }, errors: ['E_NOT_FOUND'] },
  { name: 'disk not registered', cmd: { type: 'resource.create', name: 'x', group: 'db', resourceType: 'disk', parameters: { disk: 'd7' } }, errors: ['E_NOT_FOUND'] },
  { name: 'disk already used', cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'disk', parameters: { disk: 'd1' } }, errors: ['E_IN_USE'] },
  {
    name: 'mounting without fencing',
    setup: [{ type: 'resource.delete', name: 'disk1' }],
    cmd: { type: 'resource.create', name: 'x', group: 'db', resourceType: 'disk', parameters: { disk: 'd1', mountpoint: '/srv' } }, errors: ['E_FENCING_REQUIRED'],
  },
  {
    name: 'mounting with watchdog fencing',
    setup: [{ type: 'resource.delete', name: 'disk1' }, { type: 'property.set', values: { fencing: 'watchdog' } }],
    cmd: { type: 'resource.create', name: 'x', group: 'db', resourceType: 'disk', parameters: { disk: 'd1', mountpoint: '/srv' } }, errors: [],
  },
  {
    name: 'quick check slower than thorough warns',
    cmd: { type: 'resource.create', name: 'x', group: 'web', resourceType: 'ip', parameters: { address: 'a' }, settings: { checkIntervals: { quick: '5m', thorough: '1m' } } },
    errors: [], warnings: ['E_INVALID_VALUE'],
  },
]);

runCases('resource.set / resource.depend / resource.delete', [
  {
    name: 'set merges parameters; null removes one',
    setup: [{ type: 'resource.set', name: 'app', parameters: { cwd: '/srv' } }],
    cmd: { type: 'resource.set', name: 'app', parameters: { cwd: null, user: 'app' }, settings: { restart: null, isolate: true } }, errors: [],
    then: (h) => {
      const r = h.db.getResource('app');
      assert.deepEqual([r?.parameters, r?.restart, r?.isolate], [{ command: '/usr/bin/app', user: 'app' }, null, true]);
    },
  },
  { name: 'removing a required parameter', cmd: { type: 'resource.set', name: 'app', parameters: { command: null } }, errors: ['E_MISSING_PARAMETER'] },
  { name: 'nothing to change', cmd: { type: 'resource.set', name: 'app' }, errors: ['E_REQUIRED'] },
  { name: 'mount later without fencing', cmd: { type: 'resource.set', name: 'disk1', parameters: { mountpoint: '/srv' } }, errors: ['E_FENCING_REQUIRED'] },
  {
    name: 'depend replaces the expression',
    setup: [{ type: 'resource.create', name: 'ip2', group: 'web', resourceType: 'ip', parameters: { address: 'b' } }],
    cmd: { type: 'resource.depend', name: 'app', on: 'ip1 OR ip2' }, errors: [],
    then: (h) => assert.equal(dependsOn(h, 'app'), 'ip1 or ip2'),
  },
  { name: 'depend on nothing', cmd: { type: 'resource.depend', name: 'app', on: ' ' }, errors: [], then: (h) => assert.equal(dependsOn(h, 'app'), null) },
  { name: 'depend closing a cycle', cmd: { type: 'resource.depend', name: 'ip1', on: 'app' }, errors: ['E_DEPENDENCY_CYCLE'] },
  { name: 'depend outside the group', cmd: { type: 'resource.depend', name: 'app', on: 'ip1 and disk1' }, errors: ['E_DEPENDENCY_OUTSIDE_GROUP'] },
  { name: 'depend syntax', cmd: { type: 'resource.depend', name: 'app', on: 'ip1 and or' }, errors: ['E_DEPENDENCY_SYNTAX'] },
  { name: 'depend needs on', cmd: { type: 'resource.depend', name: 'app' }, errors: ['E_REQUIRED'] },
  { name: 'delete with dependents', cmd: { type: 'resource.delete', name: 'ip1' }, errors: ['E_IN_USE'] },
  {
    name: 'delete with dependents, forced: taken out of their expressions',
    setup: [
      { type: 'resource.create', name: 'ip2', group: 'web', resourceType: 'ip', parameters: { address: 'b' } },
      { type: 'resource.depend', name: 'app', on: 'ip1 and ip2' },
    ],
    cmd: { type: 'resource.delete', name: 'ip1' }, force: true, errors: [], warnings: ['E_IN_USE'],
    then: (h) => assert.equal(dependsOn(h, 'app'), 'ip2'),
  },
  {
    name: 'delete while online',
    setup: [
      { type: 'placement.set', group: 'web', node: 'n1' },
      { type: 'resourceState.set', resource: 'app', state: 'OnlinePending', node: 'n1', epoch: 1 },
      { type: 'resourceState.set', resource: 'app', state: 'Online', node: 'n1', epoch: 1 },
    ],
    cmd: { type: 'resource.delete', name: 'app' }, errors: ['E_NOT_OFFLINE'],
  },
  { name: 'delete unknown', cmd: { type: 'resource.delete', name: 'ghost' }, errors: ['E_NOT_FOUND'] },
]);

runCases('resourceType.register / unregister', [
  {
    name: 'register',
    cmd: { type: 'resourceType.register', name: 'apache', kind: 'lsb', source: '/etc/init.d/apache2' }, errors: [],
    then: (h) => assert.deepEqual(h.db.getResourceType('apache'), { name: 'apache', kind: 'lsb', source: '/etc/init.d/apache2', parameters: {}, builtin: false }),
  },
  {
    name: 'an OCF agent by its catalog name, then a resource of it',
    setup: [{ type: 'resourceType.register', name: 'ocf:heartbeat:Dummy', kind: 'ocf', source: '/usr/lib/ocf/resource.d/heartbeat/Dummy', parameters: { fake: { type: 'string' } } }],
    cmd: { type: 'resource.create', name: 'dummy', group: 'web', resourceType: 'ocf:heartbeat:Dummy', parameters: { fake: 'x' } }, errors: [],
    then: (h) => assert.equal(h.db.getResource('dummy')?.type, 'ocf:heartbeat:Dummy'),
  },
  {
    name: 'ocf: names are for OCF agents, with a provider and an agent',
    cmd: { type: 'resourceType.register', name: 'ocf:x:y', kind: 'lsb', source: '/etc/init.d/y' }, errors: ['E_INVALID_NAME'],
  },
  { name: 'ocf: name without an agent', cmd: { type: 'resourceType.register', name: 'ocf:heartbeat', kind: 'ocf', source: '/x' }, errors: ['E_INVALID_NAME'] },
  { name: 'ocf: name with a bad agent', cmd: { type: 'resourceType.unregister', name: 'ocf:heartbeat:a b' }, errors: ['E_INVALID_NAME'] },
  { name: 'built-in kinds are not registered', cmd: { type: 'resourceType.register', name: 'p2', kind: 'process', source: '/bin/true' }, errors: ['E_INVALID_VALUE'] },
  { name: 'exists', cmd: { type: 'resourceType.register', name: 'ip', kind: 'plugin', source: '/opt/ip.js' }, errors: ['E_EXISTS'] },
  {
    name: 'bad schema',
    cmd: { type: 'resourceType.register', name: 't', kind: 'ocf', source: 'rel/path', parameters: { a: { type: 'float' }, b: 'string', c: { type: 'integer', default: 'x' } } },
    errors: ['E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE', 'E_INVALID_VALUE'],
  },
  { name: 'unregister built in', cmd: { type: 'resourceType.unregister', name: 'process' }, errors: ['E_BUILTIN', 'E_IN_USE'] },
  {
    name: 'unregister in use',
    setup: [
      { type: 'resourceType.register', name: 'apache', kind: 'lsb', source: '/etc/init.d/apache2' },
      { type: 'resource.create', name: 'www', group: 'web', resourceType: 'apache' },
    ],
    cmd: { type: 'resourceType.unregister', name: 'apache' }, errors: ['E_IN_USE'],
  },
  { name: 'unregister unknown', cmd: { type: 'resourceType.unregister', name: 'nope' }, errors: ['E_NOT_FOUND'] },
]);
