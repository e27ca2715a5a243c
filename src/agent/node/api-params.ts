// The API's methods and the shape of their params, checked before anything
// runs: an unknown method is E_UNKNOWN_METHOD (with a did-you-mean hint),
// params of the wrong shape are E_INVALID_PARAMS naming every problem.
// Values that the cluster database judges (names, property values, keys)
// are left to it, so its reports reach the caller.
import type { ApiMethod } from '../../client/api.js';
import { closest } from '../db/suggest.js';
import { AgentError } from './agent-error.js';
import { isObject } from './state-files.js';

type Check = (value: unknown, field: string) => string[];

interface FieldSpec {
  check: Check;
  required?: boolean;
}

const str = (max = 16_384): Check => (v, f) => (typeof v === 'string' && v.length > 0 && v.length <= max ? [] : [`${f} must be a non-empty string of at most ${max} characters`]);
const bool: Check = (v, f) => (typeof v === 'boolean' ? [] : [`${f} must be true or false`]);
const count = (min: number): Check => (v, f) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? [] : [`${f} must be a whole number of at least ${min}`]);
const choice = (values: readonly string[]): Check => (v, f) => (typeof v === 'string' && values.includes(v) ? [] : [`${f} must be one of ${values.join(', ')}`]);

const IDENTITY_FIELDS = ['nodeId', 'name', 'incarnation', 'publicKey', 'address'] as const;

/** An agent's identity as `agent.identity` returns it (fingerprint and version optional). */
const identity: Check = (v, f) => {
  if (!isObject(v)) return [`${f} must be an object as agent.identity returns it`];
  const problems = IDENTITY_FIELDS.flatMap((key) => str(16_384)(v[key], `${f}.${key}`));
  for (const key of ['fingerprint', 'version']) if (v[key] !== undefined) problems.push(...str(200)(v[key], `${f}.${key}`));
  return problems;
};

const members: Check = (v, f) => {
  if (!Array.isArray(v) || v.length === 0) return [`${f} must be a non-empty array of member identities`];
  return v.flatMap((m, i) => identity(m, `${f}[${i}]`));
};

const values: Check = (v, f) => {
  if (!isObject(v) || Object.keys(v).length === 0) return [`${f} must be an object of KEY: VALUE with at least one key`];
  return Object.entries(v).flatMap(([key, value]) =>
    typeof value === 'string' || typeof value === 'number' || value === null ? [] : [`${f}.${key} must be a string, a number or null`]);
};

const NODE = { node: { check: str(63), required: true } };

/** An object whose contents the cluster database judges (group and resource settings). */
const object: Check = (v, f) => (isObject(v) ? [] : [`${f} must be an object`]);

/** Resource parameters: NAME: value, and with `removable`, NAME: null to remove one. */
const parameters = (removable: boolean): Check => (v, f) => {
  if (!isObject(v)) return [`${f} must be an object of NAME: value`];
  return Object.entries(v).flatMap(([key, value]) =>
    typeof value === 'string' || (removable && value === null) ? [] : [`${f}.${key} must be a string${removable ? ' or null' : ''}`]);
};

const GROUP = { group: { check: str(63), required: true } };
const RESOURCE = { resource: { check: str(63), required: true } };
/** A dependency expression may be empty: no dependencies. */
const expression: Check = (v, f) => (typeof v === 'string' && v.length <= 4096 ? [] : [`${f} must be an expression of at most 4096 characters`]);

export const METHOD_PARAMS: Record<ApiMethod, Record<string, FieldSpec>> = {
  'agent.identity': {},
  'agent.status': {},
  'cluster.create': { name: { check: str(63), required: true } },
  'cluster.join': {
    clusterId: { check: str(100), required: true },
    clusterName: { check: str(63), required: true },
    members: { check: members, required: true },
  },
  'cluster.status': { consistent: { check: bool } },
  'cluster.destroy': { all: { check: bool } },
  'node.list': { consistent: { check: bool } },
  'node.show': NODE,
  'node.add': { identity: { check: identity, required: true } },
  // `force` is beyond api.ts: the database refuses, unless forced, a removal that leaves two voters.
  'node.remove': { ...NODE, force: { check: bool } },
  'node.evict': { ...NODE, force: { check: bool } },
  'node.pause': { ...NODE, drain: { check: bool } },
  'node.resume': { ...NODE, failback: { check: choice(['now', 'policy', 'never']) } },
  'config.get': { key: { check: str(100) }, consistent: { check: bool } },
  'config.set': { values: { check: values, required: true }, force: { check: bool } },
  'config.history': { limit: { check: count(1) }, sinceIndex: { check: count(0) }, type: { check: str(100) } },
  'group.create': { ...GROUP, settings: { check: object } },
  'group.delete': { ...GROUP, force: { check: bool } },
  'group.set': { ...GROUP, settings: { check: object, required: true } },
  'group.show': { ...GROUP, consistent: { check: bool } },
  'group.list': { consistent: { check: bool } },
  'group.online': GROUP,
  'group.offline': GROUP,
  'group.move': { ...GROUP, to: { check: str(63) } },
  'group.cleanup': GROUP,
  'resource.create': {
    ...RESOURCE,
    group: { check: str(63), required: true },
    type: { check: str(200), required: true },
    parameters: { check: parameters(false) },
    dependsOn: { check: expression },
    settings: { check: object },
    force: { check: bool },
  },
  'resource.delete': { ...RESOURCE, force: { check: bool } },
  'resource.set': { ...RESOURCE, parameters: { check: parameters(true) }, settings: { check: object }, force: { check: bool } },
  'resource.depend': { ...RESOURCE, on: { check: expression, required: true } },
  'resource.show': { ...RESOURCE, consistent: { check: bool } },
  'resource.list': { group: { check: str(63) }, consistent: { check: bool } },
  'resource.online': RESOURCE,
  'resource.offline': RESOURCE,
  'resource.fail': RESOURCE,
  'resource.cleanup': RESOURCE,
  'resource.types': {},
};

export const API_METHODS = Object.keys(METHOD_PARAMS) as ApiMethod[];

export function isApiMethod(method: string): method is ApiMethod {
  return Object.hasOwn(METHOD_PARAMS, method);
}

/** Throws E_UNKNOWN_METHOD, or E_INVALID_PARAMS with every problem; returns the params object otherwise. */
export function checkRequest(method: string, params: unknown): { method: ApiMethod; params: Record<string, unknown> } {
  if (!isApiMethod(method)) {
    const near = closest(method, API_METHODS);
    throw new AgentError('E_UNKNOWN_METHOD', `there is no API method '${method.slice(0, 64)}'`, near ? `did you mean '${near}'?` : `methods: ${API_METHODS.join(', ')}`);
  }
  if (!isObject(params)) throw new AgentError('E_INVALID_PARAMS', `${method}: params must be an object`);
  const spec = METHOD_PARAMS[method];
  const problems: string[] = [];
  for (const key of Object.keys(params)) if (!Object.hasOwn(spec, key)) problems.push(`unknown param ${key.slice(0, 64)}`);
  for (const [key, field] of Object.entries(spec)) {
    const value = params[key];
    if (value === undefined) {
      if (field.required) problems.push(`${key} is required`);
      continue;
    }
    problems.push(...field.check(value, key));
  }
  if (problems.length > 0) {
    const known = Object.keys(spec);
    throw new AgentError('E_INVALID_PARAMS', `${method}: ${problems.join('; ')}`, known.length > 0 ? `params of ${method}: ${known.join(', ')}` : `${method} takes no params`);
  }
  return { method, params };
}
