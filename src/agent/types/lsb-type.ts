// The `lsb` type: an LSB init script (/etc/init.d/NAME): start, stop and
// status with LSB exit codes. start/stop share OCF's 0-7; status is 0
// running, 3 not running, anything else failed. Both checks run `status`
// (LSB has no deeper check). Scripts take no parameters.

import { basename } from 'node:path';
import { actionResult, lsbStatusResult } from './exit-codes.js';
import { checkParameters } from './parameters.js';
import type { OperationContext, OperationResult, ParameterProblem, ResourceType, TypeDescription } from './resource-type.js';
import { actionEnv, outcomeResult, outputFileIn, runAction } from './run-action.js';

export class LsbResourceType implements ResourceType {
  constructor(readonly scriptPath: string) {}

  async describe(): Promise<TypeDescription> {
    return { summary: `LSB init script ${this.scriptPath}`, parameters: [] };
  }

  async validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]> {
    return checkParameters(await this.describe(), params);
  }

  online(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'start');
  }

  offline(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'stop');
  }

  terminate(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'stop');
  }

  quickCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'status');
  }

  thoroughCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.action(ctx, 'status');
  }

  private async action(ctx: OperationContext, action: 'start' | 'stop' | 'status'): Promise<OperationResult> {
    const run = {
      argv: [this.scriptPath, action],
      env: actionEnv(),
      containment: ctx.containment,
      signal: ctx.signal,
      outputFile: outputFileIn(ctx.outputDir),
      label: action === 'status' ? null : `lsb ${action}`,
    };
    const subject = `${basename(this.scriptPath)} (${ctx.resource})`;
    const outcome = await runAction(run);
    return outcomeResult(outcome, run, `${subject} ${action}`, (status) =>
      action === 'status' ? lsbStatusResult(status, subject) : actionResult(action, status, subject, 'LSB'));
  }
}
