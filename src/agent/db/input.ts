// Reading command fields from untrusted JSON. Commands arrive as parsed
// JSON at apply time, so every field is checked for type and range here;
// each reader reports what is wrong and returns undefined, and validation
// goes on so that every problem is reported at once.

import type { ClusterState } from './schema.js';
import type { ReportSink } from './report.js';
import { didYouMean } from './suggest.js';
import { formatDuration, isAbsolutePath, parseDuration, show, validateName, validateTypeName } from './names.js';

/** Longest free-text field, in characters (paths, commands, keys). */
export const TEXT_MAX_LENGTH = 4096;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Changes the state; only ever run after validation found no errors. */
export type Mutation = (state: ClusterState) => void;

export interface CommandContext {
  /** The state to validate against; handlers must not change it. */
  state: ClusterState;
  cmd: Fields;
  sink: ReportSink;
  /** Proposer's wall clock (ms), from the envelope. */
  at: number;
}

/** Validates one command type; returns the change to make when it found no errors. */
export type Handler = (ctx: CommandContext) => Mutation | undefined;

export class Fields {
  constructor(
    readonly value: Record<string, unknown>,
    readonly sink: ReportSink,
    private readonly prefix = '',
  ) {}

  pathOf(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  get(key: string): unknown {
    return Object.hasOwn(this.value, key) ? this.value[key] : undefined;
  }

  /** Keys with a value, sorted; an `undefined` member is absent, as it would be after JSON encoding. */
  keys(): string[] {
    return Object.keys(this.value).filter((key) => this.value[key] !== undefined).sort();
  }

  /** Refuses fields the command does not have (a typo would otherwise be ignored silently). */
  only(allowed: readonly string[]): void {
    for (const key of this.keys()) {
      if (allowed.includes(key)) continue;
      this.sink.error('E_UNKNOWN_FIELD', `unknown field ${show(this.pathOf(key))}`, {
        field: this.pathOf(key),
        hint: didYouMean(key, allowed),
      });
    }
  }

  present(key: string, required: boolean): boolean {
    if (this.has(key)) return true;
    if (required) this.sink.error('E_REQUIRED', `${show(this.pathOf(key))} is required`, { field: this.pathOf(key) });
    return false;
  }

  invalid(key: string, message: string, hint?: string): undefined {
    this.sink.error('E_INVALID_VALUE', message, { field: this.pathOf(key), hint });
    return undefined;
  }

  string(key: string, required: boolean, max = TEXT_MAX_LENGTH): string | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      return this.invalid(key, `${this.pathOf(key)} must be a non-empty string of at most ${max} characters, not ${show(value)}`);
    }
    return value;
  }

  name(key: string, what: string, required = true): string | undefined {
    if (!this.present(key, required)) return undefined;
    const problem = validateName(this.get(key), what, this.pathOf(key));
    if (problem) {
      this.sink.add(problem);
      return undefined;
    }
    return this.get(key) as string;
  }

  /** A resource type name: a name, or `ocf:PROVIDER:AGENT`. */
  typeName(key: string): string | undefined {
    if (!this.present(key, true)) return undefined;
    const problem = validateTypeName(this.get(key), this.pathOf(key));
    if (problem) {
      this.sink.add(problem);
      return undefined;
    }
    return this.get(key) as string;
  }

  absolutePath(key: string, required: boolean): string | undefined {
    const value = this.string(key, required);
    if (value !== undefined && !isAbsolutePath(value)) {
      return this.invalid(key, `${this.pathOf(key)} must be an absolute path, not ${show(value)}`);
    }
    return value;
  }

  integer(key: string, min: number, max: number, required = false): number | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      return this.invalid(key, `${this.pathOf(key)} must be a whole number from ${min} to ${max}, not ${show(value)}`);
    }
    return value;
  }

  /** A duration string (`5s`) or a whole number of ms, in [min, max] ms. */
  duration(key: string, min: number, max: number, required = false): number | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    let ms = typeof value === 'number' && Number.isSafeInteger(value) ? value : NaN;
    if (typeof value === 'string') {
      const parsed = parseDuration(value, this.pathOf(key));
      if (!parsed.ok) {
        this.sink.add(parsed.report);
        return undefined;
      }
      ms = parsed.ms;
    }
    if (!(ms >= min && ms <= max)) {
      return this.invalid(key, `${this.pathOf(key)} must be a duration from ${formatDuration(min)} to ${formatDuration(max)}, not ${show(value)}`);
    }
    return ms;
  }

  boolean(key: string, required = false): boolean | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    if (typeof value !== 'boolean') return this.invalid(key, `${this.pathOf(key)} must be true or false, not ${show(value)}`);
    return value;
  }

  choice<T extends string>(key: string, values: readonly T[], required: boolean): T | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    return this.invalid(key, `${this.pathOf(key)} must be one of ${values.join(', ')}, not ${show(value)}`, didYouMean(String(value), values));
  }

  /** A list of distinct names. */
  names(key: string, what: string): string[] | undefined {
    if (!this.present(key, false)) return undefined;
    const value = this.get(key);
    if (!Array.isArray(value) || value.length > 1000) return this.invalid(key, `${this.pathOf(key)} must be a list of ${what} names`);
    let ok = true;
    value.forEach((item: unknown, i) => {
      const problem = validateName(item, what, `${this.pathOf(key)}[${i}]`);
      if (problem) this.sink.add(problem);
      ok &&= problem === null;
    });
    if (!ok) return undefined;
    const names = value as string[];
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated !== undefined) return this.invalid(key, `${this.pathOf(key)} names ${show(repeated)} twice`);
    return names;
  }

  object(key: string, required: boolean): Fields | undefined {
    if (!this.present(key, required)) return undefined;
    const value = this.get(key);
    if (!isRecord(value)) return this.invalid(key, `${this.pathOf(key)} must be an object`);
    return new Fields(value, this.sink, this.pathOf(key));
  }
}
