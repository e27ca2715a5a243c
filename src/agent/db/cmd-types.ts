// Handlers of resource type commands, and the parameter checks that
// resources share. Built-in types (process, ip, disk) are always there;
// OCF agents, LSB scripts and plug-ins are registered with their path and
// parameter schema (the shell reads an OCF agent's meta-data to build it).

import type { Fields, Handler } from './input.js';
import type { ParameterSpec, ParameterType, ResourceTypeKind, ResourceTypeRecord } from './schema.js';
import type { ReportSink } from './report.js';
import { listNames } from './queries.js';
import { parseDuration, show, validateName } from './names.js';
import { didYouMean } from './suggest.js';
import { sortedWhere } from './schema.js';

const REGISTERED_KINDS: readonly ResourceTypeKind[] = ['ocf', 'lsb', 'plugin'];
const PARAMETER_TYPES: readonly ParameterType[] = ['string', 'integer', 'boolean', 'duration'];

/** Why `value` is not a valid `type`, or null. */
export function parameterValueProblem(type: ParameterType, value: string): string | null {
  if (type === 'integer' && !/^-?\d{1,15}$/.test(value)) return `${show(value)} is not a whole number`;
  if (type === 'boolean' && value !== 'true' && value !== 'false') return `${show(value)} is not true or false`;
  if (type === 'duration' && !parseDuration(value).ok) return `${show(value)} is not a duration such as 500ms, 5s, 10m`;
  return null;
}

/** Checks a resource's parameters against its type's schema. */
export function checkParameters(type: ResourceTypeRecord, parameters: ReadonlyMap<string, string | null>, sink: ReportSink): void {
  const known = Object.keys(type.parameters);
  for (const [name, value] of [...parameters].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const spec = Object.hasOwn(type.parameters, name) ? type.parameters[name] : undefined;
    const field = `parameters.${name}`;
    if (!spec) {
      sink.error('E_UNKNOWN_PARAMETER', `type ${type.name} has no parameter ${show(name)}`, {
        field,
        hint: didYouMean(name, known) ?? (known.length > 0 ? `its parameters: ${known.sort().join(', ')}` : undefined),
      });
    } else if (value !== null) {
      const problem = parameterValueProblem(spec.type, value);
      if (problem) sink.error('E_INVALID_VALUE', `${name}: ${problem}`, { field });
    }
  }
  for (const name of known.sort()) {
    const spec = type.parameters[name] as ParameterSpec;
    if (spec.required && spec.default === null && (parameters.get(name) ?? null) === null) {
      sink.error('E_MISSING_PARAMETER', `type ${type.name} needs parameter ${name} (${spec.description})`, { field: `parameters.${name}` });
    }
  }
}

function readParameterSpec(fields: Fields): ParameterSpec | undefined {
  fields.only(['type', 'required', 'default', 'description']);
  const type = fields.choice('type', PARAMETER_TYPES, true);
  const required = fields.boolean('required') ?? false;
  const defaultValue = fields.string('default', false);
  const description = fields.string('description', false, 1000) ?? '';
  if (type !== undefined && defaultValue !== undefined) {
    const problem = parameterValueProblem(type, defaultValue);
    if (problem) fields.invalid('default', `default ${problem}`);
  }
  return type === undefined ? undefined : { type, required, default: defaultValue ?? null, description };
}

export const resourceTypeRegister: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name', 'kind', 'source', 'parameters']);
  const name = cmd.typeName('name');
  if (name !== undefined && state.resourceTypes.has(name)) sink.error('E_EXISTS', `resource type ${name} exists`, { field: 'name' });
  const kind = cmd.choice('kind', REGISTERED_KINDS, true);
  if (name?.startsWith('ocf:') && kind !== undefined && kind !== 'ocf') {
    sink.error('E_INVALID_NAME', `only OCF agents are named ocf:PROVIDER:AGENT, not a type of kind ${kind}`, { field: 'name' });
  }
  const source = cmd.absolutePath('source', true);
  const specs = cmd.object('parameters', false);
  const parameters: Record<string, ParameterSpec> = {};
  for (const key of specs?.keys() ?? []) {
    const problem = validateName(key, 'parameter', `parameters.${key}`);
    if (problem) sink.add(problem);
    const fields = specs?.object(key, true);
    const spec = fields && readParameterSpec(fields);
    if (spec && !problem) parameters[key] = spec;
  }
  if (name === undefined || kind === undefined || source === undefined) return undefined;
  const record: ResourceTypeRecord = { name, kind, source, parameters, builtin: false };
  return (s) => {
    s.resourceTypes.set(name, record);
  };
};

export const resourceTypeUnregister: Handler = ({ state, cmd, sink }) => {
  cmd.only(['type', 'name']);
  const name = cmd.typeName('name');
  const type = name === undefined ? undefined : state.resourceTypes.get(name);
  if (name !== undefined && !type) sink.error('E_NOT_FOUND', `no resource type ${name}`, { field: 'name' });
  if (!type) return undefined;
  if (type.builtin) sink.error('E_BUILTIN', `${type.name} is built in and cannot be unregistered`, { field: 'name' });
  const users = sortedWhere(state.resources, (r) => r.type === type.name).map((r) => r.name);
  if (users.length > 0) sink.error('E_IN_USE', `resources ${listNames(users)} have type ${type.name}`, { field: 'name' });
  return (s) => {
    s.resourceTypes.delete(type.name);
  };
};
