// In-memory stdout/stderr for running the CLI inside the test process.
import { Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/command-spec.js';

export class Capture extends Writable {
  text = '';
  isTTY?: boolean;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function captureIo(): { io: CliIo; stdout: Capture; stderr: Capture } {
  const stdout = new Capture({ decodeStrings: false });
  const stderr = new Capture({ decodeStrings: false });
  return { io: { stdout, stderr }, stdout, stderr };
}
