// From a registered resource type (kind + source) to the code that runs it.
// One instance per type in a monitor process: the process type keeps its
// children there, the plug-in type its workers.

import type { ResourceTypeKind } from '../db/schema.js';
import { IpResourceType } from './ip-type.js';
import { LsbResourceType } from './lsb-type.js';
import { OcfResourceType } from './ocf-type.js';
import { PluginResourceType } from './plugin-type.js';
import { ProcessResourceType } from './process-type.js';
import { failure } from './resource-type.js';
import type { OperationFailure, ResourceType } from './resource-type.js';

/** What the monitor needs of a ResourceTypeRecord. */
export interface TypeRef {
  name: string;
  kind: ResourceTypeKind;
  /** OCF agent, LSB script or plug-in module (absolute path or package name); null for built-ins. */
  source: string | null;
}

export class TypeRegistry {
  private readonly instances = new Map<string, ResourceType>();

  /** The implementation of `ref`, or a fatal failure saying why there is none. */
  get(ref: TypeRef): ResourceType | OperationFailure {
    const key = `${ref.kind}:${ref.source ?? ''}`;
    const known = this.instances.get(key);
    if (known !== undefined) return known;
    const made = create(ref);
    if ('ok' in made) return made;
    this.instances.set(key, made);
    return made;
  }
}

function create(ref: TypeRef): ResourceType | OperationFailure {
  switch (ref.kind) {
    case 'process': return new ProcessResourceType();
    case 'ip': return new IpResourceType();
    case 'disk': return failure('E_UNSUPPORTED', `type ${ref.name}: disk resources are run by the cluster disk driver, not the resource monitor`, 'fatal');
    case 'ocf':
    case 'lsb':
    case 'plugin': {
      if (ref.source === null || ref.source === '') return failure('E_INVALID_VALUE', `type ${ref.name} (${ref.kind}) has no source`, 'fatal');
      if (ref.kind === 'ocf') return new OcfResourceType(ref.source);
      if (ref.kind === 'lsb') return new LsbResourceType(ref.source);
      return new PluginResourceType(ref.source);
    }
  }
}
