// The Observer with real observed-resource processes (no lab): an instance
// is active from its connection until its process dies, stopped or not; a
// resource that cannot reach the observer exits 1, and one whose observer
// goes away ends too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Observer } from './observer.js';

const RESOURCE = fileURLToPath(new URL('./observed-resource.js', import.meta.url));

function startResource(socket: string, group: string): ChildProcess {
  return spawn(process.execPath, [RESOURCE, socket, group], { stdio: ['ignore', 'ignore', 'pipe'] });
}

test('an instance is active from its hello until its process dies, also while stopped', async () => {
  const observer = await Observer.listen();
  const child = startResource(observer.socketPath, 'web');
  try {
    const instance = await observer.until('the hello', () => observer.active('web')[0], 10_000);
    assert.equal(instance.pid, child.pid);
    // Not in a group's cgroup (no lab): the node cannot be told.
    assert.equal(instance.node, '?');
    child.kill('SIGSTOP');
    await sleep(200);
    assert.equal(observer.active('web').length, 1, 'a stopped instance still counts as active');
    child.kill('SIGKILL');
    const ended = await observer.until('the close', () => observer.instances('web').find((i) => i.closedAt !== null), 10_000);
    assert.ok((ended.closedAt as number) >= ended.connectedAt);
    assert.deepEqual(observer.judge().map((v) => [v.group, v.instances, v.dualActive.length]), [['web', 1, 0]]);
  } finally {
    child.kill('SIGKILL');
    await observer.close();
  }
});

test('two live instances of one group are dual-active; other groups are judged apart', async () => {
  const observer = await Observer.listen();
  const children = [startResource(observer.socketPath, 'db'), startResource(observer.socketPath, 'db'), startResource(observer.socketPath, 'web')];
  try {
    await observer.until('three hellos', () => (observer.instances().length === 3 ? true : undefined), 10_000);
    const verdicts = observer.judge();
    assert.deepEqual(verdicts.map((v) => [v.group, v.dualActive.length]), [['db', 1], ['web', 0]]);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await observer.close();
  }
});

test('a resource that cannot connect exits 1 at once; one whose observer closes exits too', async () => {
  const lost = startResource('/nonexistent/observer.sock', 'g');
  const [code] = (await once(lost, 'exit')) as [number | null];
  assert.equal(code, 1);

  const observer = await Observer.listen();
  const child = startResource(observer.socketPath, 'g');
  try {
    await observer.until('the hello', () => observer.active('g')[0], 10_000);
    const exited = once(child, 'exit');
    await observer.close();
    const [after] = (await exited) as [number | null];
    assert.equal(after, 1);
  } finally {
    child.kill('SIGKILL');
  }
});
