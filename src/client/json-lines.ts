// JSON lines on a byte stream: the API's framing on the agent's Unix socket
// and on SSH channels. One JSON document per line; a line longer than the
// limit or not JSON is an error for that stream, never a crash.
import { StringDecoder } from 'node:string_decoder';

/** 16 MiB: larger than any API document (history pages, cluster status). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export class JsonLinesError extends Error {
  constructor(readonly code: 'E_LINE_TOO_LONG' | 'E_MALFORMED_JSON', message: string) {
    super(message);
  }
}

/**
 * Feeds chunks in, calls `onValue` for each complete line's JSON value and
 * `onError` once for the first bad line; after an error it ignores input
 * (the caller closes the stream).
 */
export class JsonLinesDecoder {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private failed = false;

  constructor(
    private readonly onValue: (value: unknown) => void,
    private readonly onError: (err: JsonLinesError) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer | string): void {
    if (this.failed) return;
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim().length > 0 && !this.emit(line)) return;
      newline = this.buffer.indexOf('\n');
    }
    if (Buffer.byteLength(this.buffer) > this.maxLineBytes) {
      this.fail(new JsonLinesError('E_LINE_TOO_LONG', `a line exceeds ${this.maxLineBytes} bytes`));
    }
  }

  private emit(line: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.fail(new JsonLinesError('E_MALFORMED_JSON', 'a line is not valid JSON'));
      return false;
    }
    this.onValue(value);
    return !this.failed;
  }

  private fail(err: JsonLinesError): void {
    this.failed = true;
    this.buffer = '';
    this.onError(err);
  }
}

export function encodeJsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
