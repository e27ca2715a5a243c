// The cluster database judges a built-in resource's parameters by its own
// schema (the pure core cannot load the implementations); the schema must
// say what the implementations in src/agent/types/ describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResourceTypes } from '../../src/agent/db/schema.js';
import { IpResourceType } from '../../src/agent/types/ip-type.js';
import { ProcessResourceType } from '../../src/agent/types/process-type.js';

test('the built-in process and ip types take exactly the parameters their implementations describe', async () => {
  const schemas = new Map(builtinResourceTypes().map((t) => [t.name, t.parameters]));
  for (const [name, type] of [['process', new ProcessResourceType()], ['ip', new IpResourceType()]] as const) {
    const described = (await type.describe()).parameters;
    const fromImplementation = Object.fromEntries(described.map((p) => [p.name, { type: p.type, required: p.required, default: p.default, description: p.description }]));
    assert.deepEqual(schemas.get(name), fromImplementation, name);
  }
});
