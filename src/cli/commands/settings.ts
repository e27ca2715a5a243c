// `key=value` words of group and resource commands → the typed settings the
// API takes. Each key has a kind: durations (`5s`, sent as ms), whole
// numbers, booleans, comma-separated name lists, choices. Nested settings
// are written with a dot: `restart.maxRestarts=5`. An empty value resets a
// setting where that has a meaning (`possibleOwners=` allows every node,
// `restart=` returns a resource to its group's restart settings). Every
// problem is reported at once, as one usage error (exit 2).
import type { GroupSettingsInput, ResourceSettingsInput } from '../../agent/db/commands.js';
import { didYouMean } from '../../agent/db/suggest.js';
import { UsageError } from '../errors.js';
import { parseDuration, parseNames } from '../parse.js';
import { parseSettings } from './config.js';

type Kind =
  | { kind: 'duration' }
  | { kind: 'integer' }
  | { kind: 'boolean' }
  | { kind: 'names'; what: string }
  | { kind: 'choice'; values: readonly string[] }
  /** Free text; empty: null. */
  | { kind: 'text-or-null' }
  /** Only the empty value, meaning null. */
  | { kind: 'null' };

const duration: Kind = { kind: 'duration' };
const integer: Kind = { kind: 'integer' };
const boolean: Kind = { kind: 'boolean' };
const names = (what: string): Kind => ({ kind: 'names', what });

const RESTART_KEYS: Readonly<Record<string, Kind>> = {
  'restart.maxRestarts': integer,
  'restart.period': duration,
  'restart.delay': duration,
  'restart.failGroupOver': boolean,
};

export const GROUP_KEYS: Readonly<Record<string, Kind>> = {
  preferredOwners: names('node'),
  possibleOwners: names('node'),
  failoverThreshold: integer,
  failoverPeriod: duration,
  failoverRetry: duration,
  failback: { kind: 'choice', values: ['never', 'immediate', 'window'] },
  failbackWindow: { kind: 'text-or-null' },
  antiAffinityClasses: names('anti-affinity class'),
  priority: integer,
  ...RESTART_KEYS,
};

/** Resource settings; every other key of a resource command is a parameter of its type. */
export const RESOURCE_KEYS: Readonly<Record<string, Kind>> = {
  restart: { kind: 'null' },
  ...RESTART_KEYS,
  'deadlines.start': duration,
  'deadlines.stop': duration,
  'deadlines.quickCheck': duration,
  'deadlines.thoroughCheck': duration,
  'checkIntervals.quick': duration,
  'checkIntervals.thorough': duration,
  possibleOwners: names('node'),
  isolate: boolean,
};

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, yes: true, on: true, false: false, no: false, off: false };

/** The typed value, or the problem with `text`. */
function convert(key: string, text: string, kind: Kind): { value: unknown } | { problem: string } {
  const quoted = `'${text}'`;
  try {
    switch (kind.kind) {
      case 'duration':
        return { value: parseDuration(text) };
      case 'integer':
        return /^-?\d{1,15}$/.test(text) ? { value: Number(text) } : { problem: `${key}: ${quoted} is not a whole number` };
      case 'boolean': {
        const value = BOOLEAN_WORDS[text.toLowerCase()];
        return value === undefined ? { problem: `${key}: ${quoted} is not true or false` } : { value };
      }
      case 'names':
        return { value: text === '' ? [] : parseNames(text, kind.what) };
      case 'choice':
        return kind.values.includes(text) ? { value: text } : { problem: `${key}: ${quoted} is not one of ${kind.values.join(', ')}` };
      case 'text-or-null':
        return { value: text === '' ? null : text };
      case 'null':
        return text === '' ? { value: null } : { problem: `${key}: only '${key}=' (empty) is allowed, to use the group's settings; set ${key}.maxRestarts=... and the like instead` };
    }
  } catch (err) {
    if (err instanceof UsageError) return { problem: `${key}: ${err.message}` };
    throw err;
  }
}

/** Sets `value` at the dotted `key` of `target`: `restart.delay` → target.restart.delay. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  const [head, ...rest] = key.split('.') as [string, ...string[]];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = (target[head] ??= {}) as Record<string, unknown>;
  put(inner, rest.join('.'), value);
}

function fail(problems: readonly string[], hint: string): never {
  throw new UsageError(`invalid settings: ${problems.join('; ')}`, hint);
}

/** Group settings from `key=value` words; unknown keys are refused with the nearest known one. */
export function parseGroupSettings(words: readonly string[]): GroupSettingsInput {
  const values = parseSettings(words);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, text] of Object.entries(values)) {
    const kind = GROUP_KEYS[key];
    if (kind === undefined) {
      const near = didYouMean(key, Object.keys(GROUP_KEYS));
      problems.push(`there is no group setting '${key}'${near === undefined ? '' : ` (${near})`}`);
      continue;
    }
    const converted = convert(key, text, kind);
    if ('problem' in converted) problems.push(converted.problem);
    else put(out, key, converted.value);
  }
  if (problems.length > 0) fail(problems, `group settings: ${Object.keys(GROUP_KEYS).join(', ')}`);
  return out as GroupSettingsInput;
}

export interface ResourceInput {
  /** The type's parameters; null (from `key=`) removes one. */
  parameters: Record<string, string | null>;
  settings: ResourceSettingsInput;
}

/**
 * A resource's settings and parameters from `key=value` words: the keys of
 * RESOURCE_KEYS are settings, every other key is a parameter of the type,
 * which the cluster checks against the type. `removable`: `key=` removes a
 * parameter (resource set); otherwise a parameter needs a value.
 */
export function parseResourceSettings(words: readonly string[], removable: boolean): ResourceInput {
  const values = parseSettings(words);
  const parameters: Record<string, string | null> = {};
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, text] of Object.entries(values)) {
    const kind = RESOURCE_KEYS[key];
    if (kind === undefined) {
      if (key.includes('.')) {
        const near = didYouMean(key, Object.keys(RESOURCE_KEYS));
        problems.push(`there is no resource setting '${key}'${near === undefined ? '' : ` (${near})`}`);
      } else if (text === '' && !removable) {
        problems.push(`parameter ${key} has no value`);
      } else {
        parameters[key] = text === '' ? null : text;
      }
      continue;
    }
    const converted = convert(key, text, kind);
    if ('problem' in converted) problems.push(converted.problem);
    else put(settings, key, converted.value);
  }
  if (Object.hasOwn(values, 'restart') && Object.keys(values).some((key) => key.startsWith('restart.'))) {
    problems.push('restart= (the group\'s restart settings) cannot be combined with restart.* settings of its own');
  }
  if (problems.length > 0) fail(problems, 'write KEY=VALUE: the type\'s parameters (see fcm resource types), or settings such as restart.maxRestarts=5, deadlines.start=2m, isolate=true');
  return { parameters, settings: settings as ResourceSettingsInput };
}
