// The few file-system moves the store needs, all through fs.promises so that
// every write and fsync runs on libuv's thread pool, never on the event loop.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * Make the directory's entries (files created, renamed or removed) durable.
 * An fsync of a file does not persist its name: without this a freshly
 * created segment or a renamed snapshot can vanish after a power loss.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Write all of `bytes`, looping over short writes. `position` null appends
 * (the handle must be opened with 'a').
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number | null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const at = position === null ? null : position + done;
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at);
    if (bytesWritten <= 0) throw new Error(`write made no progress after ${done} of ${bytes.length} bytes`);
    done += bytesWritten;
  }
}

export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
