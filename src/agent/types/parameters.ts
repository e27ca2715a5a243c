// Parameter handling shared by the types: checking a resource's parameters
// against a type's description, and filling in defaults.

import { parameterValueProblem } from '../db/cmd-types.js';
import { parseDuration } from '../db/names.js';
import type { ParameterDescription, ParameterProblem, TypeDescription } from './resource-type.js';

export function param(name: string, type: ParameterDescription['type'], description: string, options: { required?: boolean; default?: string } = {}): ParameterDescription {
  return { name, type, required: options.required ?? false, default: options.default ?? null, description, unique: false };
}

/** Every problem with `params` against `description`: unknown names, bad values, missing required ones. */
export function checkParameters(description: TypeDescription, params: Readonly<Record<string, string>>): ParameterProblem[] {
  const problems: ParameterProblem[] = [];
  const byName = new Map(description.parameters.map((p) => [p.name, p]));
  for (const [name, value] of Object.entries(params)) {
    const spec = byName.get(name);
    if (spec === undefined) {
      problems.push({ code: 'E_UNKNOWN_PARAMETER', parameter: name, message: `no parameter ${name}; known: ${[...byName.keys()].join(', ') || 'none'}` });
      continue;
    }
    const problem = parameterValueProblem(spec.type, value);
    if (problem !== null) problems.push({ code: 'E_INVALID_VALUE', parameter: name, message: `${name}: ${problem}` });
  }
  for (const spec of description.parameters) {
    if (spec.required && spec.default === null && !Object.hasOwn(params, spec.name)) {
      problems.push({ code: 'E_MISSING_PARAMETER', parameter: spec.name, message: `parameter ${spec.name} is required (${spec.description})` });
    }
  }
  return problems;
}

/** `params` with the description's defaults added for what is not set. */
export function withDefaults(description: TypeDescription, params: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...params };
  for (const spec of description.parameters) {
    if (!Object.hasOwn(out, spec.name) && spec.default !== null) out[spec.name] = spec.default;
  }
  return out;
}

/** A duration parameter in ms; `fallback` when it is unset or invalid (validation reports invalid ones). */
export function durationParam(params: Readonly<Record<string, string>>, name: string, fallback: number): number {
  const text = params[name];
  if (text === undefined) return fallback;
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.ms : fallback;
}
