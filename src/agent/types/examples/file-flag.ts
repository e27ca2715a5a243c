// An example plug-in resource type: a flag file that exists while the
// resource is online. Register it as a resource type of kind `plugin` whose
// source is the absolute path of the compiled module (file-flag.js).
// A plug-in is a module whose default export implements ResourceType. It
// runs in a worker thread of the resource monitor: it may block or hang
// without harm to other resources (its worker is terminated at the
// deadline), but it should honour ctx.signal to stop cleanly.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { OperationContext, OperationResult, ParameterProblem, ResourceType, TypeDescription } from '../resource-type.js';

const DESCRIPTION: TypeDescription = {
  summary: 'a flag file that exists while the resource is online (example plug-in)',
  parameters: [
    { name: 'path', type: 'string', required: true, default: null, description: 'absolute path of the flag file', unique: true },
    { name: 'content', type: 'string', required: false, default: 'online\n', description: 'what the file holds; the thorough check compares it', unique: false },
  ],
};

function fail(code: string, message: string): OperationResult {
  return { ok: false, code, message, severity: 'soft' };
}

function content(ctx: OperationContext): string {
  return ctx.params.content ?? 'online\n';
}

async function read(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

const fileFlag: ResourceType = {
  async describe(): Promise<TypeDescription> {
    return DESCRIPTION;
  },

  async validate(params): Promise<ParameterProblem[]> {
    const problems: ParameterProblem[] = [];
    if (params.path === undefined) problems.push({ code: 'E_MISSING_PARAMETER', parameter: 'path', message: 'path is required' });
    else if (!isAbsolute(params.path)) problems.push({ code: 'E_INVALID_VALUE', parameter: 'path', message: 'path must be absolute' });
    for (const name of Object.keys(params)) {
      if (name !== 'path' && name !== 'content') problems.push({ code: 'E_UNKNOWN_PARAMETER', parameter: name, message: `no parameter ${name}` });
    }
    return problems;
  },

  async online(ctx): Promise<OperationResult> {
    await writeFile(ctx.params.path as string, content(ctx), { signal: ctx.signal });
    ctx.log.info('flag raised', { path: ctx.params.path });
    return { ok: true };
  },

  async offline(ctx): Promise<OperationResult> {
    await rm(ctx.params.path as string, { force: true });
    return { ok: true };
  },

  async terminate(ctx): Promise<OperationResult> {
    return this.offline(ctx);
  },

  async quickCheck(ctx): Promise<OperationResult> {
    return (await read(ctx.params.path as string)) === null ? fail('E_FLAG_MISSING', `${ctx.params.path ?? ''} is missing`) : { ok: true };
  },

  async thoroughCheck(ctx): Promise<OperationResult> {
    const text = await read(ctx.params.path as string);
    if (text === null) return fail('E_FLAG_MISSING', `${ctx.params.path ?? ''} is missing`);
    return text === content(ctx) ? { ok: true } : fail('E_FLAG_CHANGED', `${ctx.params.path ?? ''} holds something else`);
  },
};

export default fileFlag;
