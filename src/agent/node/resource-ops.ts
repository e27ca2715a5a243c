// The API's resource methods as this agent carries them out (changes on
// the leader, reads on the asked node; agent-api.ts routes them), and the
// resource types: those in the cluster database, and the OCF agents
// installed on this node. An OCF agent named `ocf:PROVIDER:AGENT` that is
// not registered yet is registered, with its meta-data's parameters, by the
// first resource created of it.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiMethod, ResourceChange, ResourceTypeView, ResourceView } from '../../client/api.js';
import type { ClusterCommand, ParameterSpecInput, ResourceSettingsInput } from '../db/commands.js';
import type { ClusterDatabase } from '../db/database.js';
import { validateTypeName } from '../db/names.js';
import { resourceTypeCatalog } from '../types/catalog.js';
import { DEFAULT_OCF_ROOT, ocfMetadata } from '../types/ocf-type.js';
import { AgentError } from './agent-error.js';
import type { Caller } from './api-server.js';
import { ClusterViews, notFound } from './group-ops.js';
import type { MethodHandler } from './group-ops.js';
import type { NodeAgent } from './node-agent.js';

type ResourceMethod = Extract<ApiMethod, `resource.${string}`>;

/** Longest parameter description the database keeps, in characters. */
const DESCRIPTION_MAX = 1000;

/** Summaries of the built-in types that the catalog (src/agent/types/) does not describe. */
const BUILTIN_SUMMARIES: Readonly<Record<string, string>> = {
  disk: 'a cluster disk: exclusive ownership by an on-disk lease, optionally mounted',
};

export function resourceMethods(agent: NodeAgent): Record<ResourceMethod, MethodHandler> {
  const db = (): ClusterDatabase => agent.requireSession().machine.db;
  const barrier = async (p: Record<string, unknown>): Promise<void> => {
    if (p.consistent === true) await agent.requireSession().runtime.readBarrier();
  };
  const show = (name: string): ResourceView => {
    const view = new ClusterViews(db()).resource(name);
    if (view === undefined) throw notFound('resource', name, db().listResources().map((r) => r.name));
    return view;
  };
  const change = async (cmd: ClusterCommand, caller: Caller, resource: string, force = false): Promise<ResourceChange> => {
    const result = await agent.propose(cmd, caller, force);
    return { index: result.index, resource: show(resource), warnings: result.reports.filter((r) => r.severity === 'warning') };
  };
  const named = (p: Record<string, unknown>): string => p.resource as string;
  const operation = (type: 'resource.online' | 'resource.offline' | 'resource.fail' | 'resource.cleanup'): MethodHandler =>
    async (p, caller) => change({ type, name: named(p) }, caller, named(p));
  return {
    'resource.create': async (p, caller) => {
      const type = p.type as string;
      // Only for a group that exists: a create refused anyway registers nothing.
      const known = db().getGroup(p.group as string) !== undefined;
      if (known && type.startsWith('ocf:') && db().getResourceType(type) === undefined) await registerOcfAgent(agent, type, caller);
      const cmd: ClusterCommand = {
        type: 'resource.create', name: named(p), group: p.group as string, resourceType: type,
        ...(p.parameters === undefined ? {} : { parameters: p.parameters as Record<string, string> }),
        ...(p.dependsOn === undefined ? {} : { dependsOn: p.dependsOn as string }),
        ...(p.settings === undefined ? {} : { settings: p.settings as ResourceSettingsInput }),
      };
      return change(cmd, caller, named(p), p.force === true);
    },
    'resource.set': async (p, caller) => {
      const cmd: ClusterCommand = {
        type: 'resource.set', name: named(p),
        ...(p.parameters === undefined ? {} : { parameters: p.parameters as Record<string, string | null> }),
        ...(p.settings === undefined ? {} : { settings: p.settings as ResourceSettingsInput }),
      };
      return change(cmd, caller, named(p), p.force === true);
    },
    'resource.depend': async (p, caller) => change({ type: 'resource.depend', name: named(p), on: p.on as string }, caller, named(p)),
    'resource.delete': async (p, caller) => {
      const result = await agent.propose({ type: 'resource.delete', name: named(p) }, caller, p.force === true);
      return { index: result.index, deleted: named(p) };
    },
    'resource.show': async (p) => {
      await barrier(p);
      return show(named(p));
    },
    'resource.list': async (p) => {
      await barrier(p);
      const group = p.group as string | undefined;
      if (group !== undefined && db().getGroup(group) === undefined) throw notFound('group', group, db().listGroups().map((g) => g.name));
      return new ClusterViews(db()).resourceList(group);
    },
    'resource.online': operation('resource.online'),
    'resource.offline': operation('resource.offline'),
    'resource.fail': operation('resource.fail'),
    'resource.cleanup': operation('resource.cleanup'),
    'resource.types': async () => resourceTypes(db()),
  };
}

/** Registers the installed OCF agent `name` (`ocf:PROVIDER:AGENT`) with the parameters its meta-data describes. */
async function registerOcfAgent(agent: NodeAgent, name: string, caller: Caller): Promise<void> {
  const problem = validateTypeName(name, 'type');
  if (problem) throw new AgentError(problem.code, problem.message, problem.hint);
  const [, provider, agentName] = name.split(':') as [string, string, string];
  const source = join(DEFAULT_OCF_ROOT, 'resource.d', provider, agentName);
  try {
    await stat(source);
  } catch {
    throw new AgentError('E_NOT_FOUND', `no OCF agent ${name} on ${agent.identity.name} (no ${source})`, 'resource types lists the installed agents; install them (e.g. resource-agents) on every node');
  }
  const metadata = await ocfMetadata(source);
  const parameters: Record<string, ParameterSpecInput> = {};
  for (const p of metadata.parameters) {
    parameters[p.name] = {
      type: p.type, required: p.required, description: p.description.slice(0, DESCRIPTION_MAX), ...(p.default === null ? {} : { default: p.default }),
    };
  }
  try {
    await agent.propose({ type: 'resourceType.register', name, kind: 'ocf', source, parameters }, caller);
  } catch (err) {
    // Another request registered it meanwhile: that is what was wanted.
    if (!(err instanceof AgentError && err.code === 'E_EXISTS')) throw err;
  }
}

/** The registered types (built-ins first), then the OCF agents installed here that are not registered. */
async function resourceTypes(db: ClusterDatabase): Promise<ResourceTypeView[]> {
  const catalog = new Map((await resourceTypeCatalog()).map((e) => [e.name, e]));
  const registered: ResourceTypeView[] = db.listResourceTypes().map((t) => ({
    name: t.name,
    kind: t.kind,
    source: t.source,
    builtin: t.builtin,
    registered: true,
    summary: catalog.get(t.name)?.summary ?? BUILTIN_SUMMARIES[t.name] ?? '',
    parameters: Object.entries(t.parameters).map(([name, spec]) => ({ name, ...spec })),
    problem: null,
  }));
  registered.sort((a, b) => Number(b.builtin) - Number(a.builtin) || (a.name < b.name ? -1 : 1));
  const installed: ResourceTypeView[] = [...catalog.values()]
    .filter((e) => db.getResourceType(e.name) === undefined)
    .map((e) => ({
      name: e.name, kind: e.kind, source: e.source, builtin: e.builtin, registered: false, summary: e.summary,
      parameters: e.parameters.map(({ name, type, required, default: defaultValue, description }) => ({ name, type, required, default: defaultValue, description })),
      problem: e.problem,
    }));
  return [...registered, ...installed];
}
