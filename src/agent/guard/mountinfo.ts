// Reading /proc/self/mountinfo: where cgroup v2 is mounted, and whether a
// path is a mount point (for undoing mounts). Format: proc(5).

import { readFile, realpath } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** `\040` (space), `\011`, `\012`, `\134` are octal escapes in mountinfo paths. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    // The optional fields end at a lone '-'; the filesystem type follows it.
    const dash = fields.indexOf('-', 6);
    const mountPoint = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 0 || mountPoint === undefined || fsType === undefined) continue;
    entries.push({ mountPoint: unescapeOctal(mountPoint), fsType });
  }
  return entries;
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** The first cgroup v2 mount point, or null when cgroup v2 is not mounted (v1 only). */
export async function findCgroup2Mount(): Promise<string | null> {
  return (await readMounts()).find((m) => m.fsType === 'cgroup2')?.mountPoint ?? null;
}

/** Whether `target` (resolved through symlinks) is a mount point now; false when it does not exist. */
export async function isMountPoint(target: string): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return false;
  }
  return (await readMounts()).some((m) => m.mountPoint === real);
}
