// The agent's log on stderr: one line per event, as text for people or as
// JSON lines for machines (`--log-format json`). Every line has the time
// (wall clock, for people and log collectors; never used for decisions), the
// level, the node, a message and structured fields.
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  format: LogFormat;
  /** Lines below this level are dropped (default info). */
  level?: LogLevel;
  stream?: Writable;
}

export class Logger {
  private node = '-';
  private readonly level: LogLevel;
  private readonly stream: Writable;

  constructor(private readonly options: LoggerOptions) {
    this.level = options.level ?? 'info';
    this.stream = options.stream ?? process.stderr;
  }

  /** Names the node once its identity is known. */
  setNode(node: string): void {
    this.node = node;
  }

  debug(msg: string, fields: LogFields = {}): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields: LogFields = {}): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields: LogFields = {}): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields: LogFields = {}): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: LogFields): void {
    if (RANK[level] < RANK[this.level]) return;
    const time = new Date().toISOString();
    const line = this.options.format === 'json'
      ? JSON.stringify({ time, level, node: this.node, msg, fields }, jsonSafe)
      : `${time} ${level.toUpperCase().padEnd(5)} ${this.node} ${msg}${textFields(fields)}`;
    this.stream.write(`${line}\n`);
  }
}

function textFields(fields: LogFields): string {
  const parts = Object.entries(fields).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value, jsonSafe) ?? String(value);
    return `${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  });
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

/** Errors become their code and message; infinities become null rather than vanish. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${value.message}` : value.message;
  }
  return value;
}
