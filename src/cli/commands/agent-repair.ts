// fcm agent repair: makes a node whose consensus log is corrupt a fresh
// agent outside any cluster (src/agent/node/repair.ts says why that is the
// safe repair), with its agent stopped; then the cluster evicts its old
// self and adds it again.
import { resolve } from 'node:path';
import type { CommandContext, CommandResult, Invocation } from '../command-spec.js';
import { FcmError, fromCodedError } from '../errors.js';
import { DEFAULT_STATE_DIR } from './agent-run.js';

export async function agentRepair(invocation: Invocation, context: CommandContext): Promise<CommandResult> {
  const stateDir = resolve(typeof invocation.options.stateDir === 'string' ? invocation.options.stateDir : DEFAULT_STATE_DIR);
  const { repairNodeState } = await import('../../agent/node/repair.js');
  const force = context.globals.force;
  const question = `Repair the node in ${stateDir}? Its log is moved aside and it leaves its cluster; the cluster must then evict it and add it again.`;
  if (!(await context.confirm(question))) throw new FcmError('E_CANCELLED', 'agent repair cancelled; nothing was changed');
  const result = await repairNodeState(stateDir, force).catch((err: unknown) => {
    throw fromCodedError(err) ?? err;
  });
  const next = [
    `on a node of the cluster: fcm node evict ${result.node} --yes --force (forced: the cluster has one voter less until the node is back)`,
    `start this node's agent again (fcm agent run --state-dir ${stateDir}, or its service)`,
    'then on a node of the cluster: fcm node add HOST[:PORT] of this node',
  ];
  return {
    data: { ...result, next },
    text: [
      `${result.node}: ${result.logWasCorrupt ? 'the corrupt log' : 'the log'} is kept in ${result.keptAs}`,
      ...result.problems.map((p) => `  damage: ${p}`),
      `${result.node} has left${result.cluster === null ? ' its cluster' : ` cluster ${result.cluster}`} and has a new incarnation. Next:`,
      ...next.map((step, i) => `  ${i + 1}. ${step}`),
    ].join('\n'),
  };
}
