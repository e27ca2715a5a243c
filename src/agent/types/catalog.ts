// `fcm resource types`: the built-in types with their parameters, and every
// OCF agent installed under OCF_ROOT/resource.d/PROVIDER/AGENT, named
// `ocf:PROVIDER:AGENT`, with parameters from its meta-data (cached per agent
// until the file changes).

import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceTypeKind } from '../db/schema.js';
import { IpResourceType } from './ip-type.js';
import { DEFAULT_OCF_ROOT, ocfMetadata } from './ocf-type.js';
import { ProcessResourceType } from './process-type.js';
import type { ParameterDescription } from './resource-type.js';

export interface CatalogEntry {
  name: string;
  kind: ResourceTypeKind;
  /** The agent's path for OCF; null for built-ins. */
  source: string | null;
  builtin: boolean;
  summary: string;
  parameters: ParameterDescription[];
  /** Why the parameters could not be read (e.g. meta-data failed); null when they were. */
  problem: string | null;
}

/** Agents whose meta-data is read at once: each is a shell script, and the machine has other work. */
const METADATA_CONCURRENCY = 4;

export async function resourceTypeCatalog(options: { ocfRoot?: string } = {}): Promise<CatalogEntry[]> {
  const builtins: CatalogEntry[] = [];
  for (const [name, type] of [['process', new ProcessResourceType()], ['ip', new IpResourceType()]] as const) {
    const description = await type.describe();
    builtins.push({ name, kind: name, source: null, builtin: true, summary: description.summary, parameters: description.parameters, problem: null });
  }
  return [...builtins, ...(await ocfCatalog(options.ocfRoot ?? DEFAULT_OCF_ROOT))];
}

async function ocfCatalog(ocfRoot: string): Promise<CatalogEntry[]> {
  const agents: { name: string; path: string }[] = [];
  const base = join(ocfRoot, 'resource.d');
  for (const provider of (await listDir(base)).sort()) {
    for (const agent of (await listDir(join(base, provider))).sort()) {
      const path = join(base, provider, agent);
      // Providers keep helper files next to their agents: only executables are agents.
      if (agent.startsWith('.') || !(await isExecutableFile(path))) continue;
      agents.push({ name: `ocf:${provider}:${agent}`, path });
    }
  }
  const entries: CatalogEntry[] = new Array(agents.length);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < agents.length) {
      const i = next++;
      const { name, path } = agents[i] as { name: string; path: string };
      const entry: CatalogEntry = { name, kind: 'ocf', source: path, builtin: false, summary: '', parameters: [], problem: null };
      try {
        const metadata = await ocfMetadata(path);
        entry.summary = metadata.summary;
        entry.parameters = metadata.parameters;
      } catch (err) {
        entry.problem = (err as Error).message;
      }
      entries[i] = entry;
    }
  };
  await Promise.all(Array.from({ length: METADATA_CONCURRENCY }, work));
  return entries;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
