// The `ocf` type: any OCF resource agent (e.g. Debian's resource-agents),
// run unmodified by the OCF rules. online = start, offline and terminate =
// stop (OCF has no forced stop: the cgroup kill by the lease guard is what
// comes after a failed stop), quick check = monitor with OCF_CHECK_LEVEL 0,
// thorough check = monitor with OCF_CHECK_LEVEL 10. Parameters travel as
// OCF_RESKEY_<name>; only those that are set (the agent applies its own
// defaults, as under Pacemaker). Deadlines are enforced by fcm: the action's
// process group is killed, and OCF_RESKEY_CRM_meta_timeout tells the agent
// how long it has.

import { realpath, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { actionResult } from './exit-codes.js';
import { parseOcfMetadata } from './ocf-metadata.js';
import type { OcfMetadata } from './ocf-metadata.js';
import { checkParameters } from './parameters.js';
import type { OperationContext, OperationResult, ParameterProblem, ResourceType, TypeDescription } from './resource-type.js';
import { actionEnv, captureAction, describeOutcome, outcomeResult, outputFileIn, runAction } from './run-action.js';

export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';

/** Time meta-data may take, in ms (agents advise 5 s). */
const METADATA_DEADLINE_MS = 10_000;
/** Time validate-all may take when the agent advises none, in ms. */
const VALIDATE_DEADLINE_MS = 20_000;
const THOROUGH_CHECK_LEVEL = '10';

export class OcfError extends Error {
  constructor(readonly code: 'E_OCF_METADATA', message: string) {
    super(message);
  }
}

/**
 * OCF_ROOT of an agent installed as ROOT/resource.d/PROVIDER/AGENT, the
 * link followed (agents find their shell library there); the default
 * otherwise.
 */
async function ocfRootOf(agentPath: string): Promise<string> {
  const real = await realpath(agentPath).catch(() => agentPath);
  const at = real.lastIndexOf('/resource.d/');
  return at > 0 ? real.slice(0, at) : DEFAULT_OCF_ROOT;
}

/** The environment every action of the agent gets. */
async function baseEnv(agentPath: string): Promise<Record<string, string>> {
  return actionEnv({
    OCF_ROOT: await ocfRootOf(agentPath),
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESOURCE_TYPE: basename(agentPath),
    OCF_RESOURCE_PROVIDER: basename(dirname(agentPath)),
  });
}

const metadataCache = new Map<string, { mtimeMs: number; metadata: Promise<OcfMetadata> }>();

/** The agent's meta-data, cached until the agent file changes. Rejects with OcfError. */
export async function ocfMetadata(agentPath: string): Promise<OcfMetadata> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(agentPath)).mtimeMs;
  } catch (err) {
    throw new OcfError('E_OCF_METADATA', `no OCF agent at ${agentPath}: ${(err as Error).message}`);
  }
  const cached = metadataCache.get(agentPath);
  if (cached?.mtimeMs === mtimeMs) return cached.metadata;
  const metadata = readMetadata(agentPath);
  metadataCache.set(agentPath, { mtimeMs, metadata });
  // A failure is not cached: the next caller tries again.
  metadata.catch(() => metadataCache.delete(agentPath));
  return metadata;
}

async function readMetadata(agentPath: string): Promise<OcfMetadata> {
  const run = await captureAction({
    argv: [agentPath, 'meta-data'], env: await baseEnv(agentPath), containment: null, signal: AbortSignal.timeout(METADATA_DEADLINE_MS),
  });
  if (run.outcome.kind !== 'exited' || run.outcome.code !== 0) {
    throw new OcfError('E_OCF_METADATA', `${agentPath} meta-data: ${describeOutcome(run.outcome)} ${run.stderr.trim().slice(0, 200)}`.trim());
  }
  try {
    return parseOcfMetadata(run.stdout);
  } catch (err) {
    throw new OcfError('E_OCF_METADATA', `${agentPath} meta-data: ${(err as Error).message}`);
  }
}

export class OcfResourceType implements ResourceType {
  constructor(readonly agentPath: string) {}

  async describe(): Promise<TypeDescription> {
    const metadata = await ocfMetadata(this.agentPath);
    return { summary: metadata.summary, parameters: metadata.parameters };
  }

  /** The meta-data schema check, then the agent's own validate-all where it has one. */
  async validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]> {
    const metadata = await ocfMetadata(this.agentPath);
    const problems = checkParameters({ summary: metadata.summary, parameters: metadata.parameters }, params);
    const action = metadata.actions.find((a) => a.name === 'validate-all');
    if (problems.length > 0 || action === undefined) return problems;
    const deadlineMs = action.timeoutMs ?? VALIDATE_DEADLINE_MS;
    const run = await captureAction({
      argv: [this.agentPath, 'validate-all'],
      env: { ...(await baseEnv(this.agentPath)), ...reskeys(params), OCF_RESOURCE_INSTANCE: 'validate', OCF_RESKEY_CRM_meta_timeout: String(deadlineMs) },
      containment: null,
      signal: AbortSignal.timeout(deadlineMs),
    });
    const result = run.outcome.kind === 'exited' ? actionResult('validate-all', run.outcome.code, basename(this.agentPath)) : null;
    if (result === null) problems.push({ code: 'E_OCF_VALIDATE', parameter: null, message: `validate-all: ${describeOutcome(run.outcome)}` });
    else if (!result.ok) problems.push({ code: result.code, parameter: null, message: `${result.message}: ${run.stderr.trim().slice(-300)}`.trim() });
    return problems;
  }

  online(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'start', {});
  }

  offline(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'stop', {});
  }

  terminate(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'stop', {});
  }

  quickCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'monitor', { OCF_CHECK_LEVEL: '0' });
  }

  thoroughCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'monitor', { OCF_CHECK_LEVEL: THOROUGH_CHECK_LEVEL });
  }

  private async action(ctx: OperationContext, action: string, extra: Record<string, string>): Promise<OperationResult> {
    const run = {
      argv: [this.agentPath, action],
      env: {
        ...(await baseEnv(this.agentPath)),
        ...reskeys(ctx.params),
        ...extra,
        OCF_RESOURCE_INSTANCE: ctx.resource,
        OCF_RESKEY_CRM_meta_timeout: String(ctx.deadlineMs),
      },
      containment: ctx.containment,
      signal: ctx.signal,
      outputFile: outputFileIn(ctx.outputDir),
      // Monitors run every few seconds: only start and stop get a header line in the output file.
      label: action === 'monitor' ? null : `ocf ${action}`,
    };
    const outcome = await runAction(run);
    const subject = `${basename(this.agentPath)} (${ctx.resource})`;
    return outcomeResult(outcome, run, `${subject} ${action}`, (status) => actionResult(action, status, subject));
  }
}

function reskeys(params: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([name, value]) => [`OCF_RESKEY_${name}`, value]));
}
