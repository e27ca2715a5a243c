// The watchdog emulator's files: its config (written by `lab up`, read by
// watchdog-main) and its status (written by the emulator on every change,
// read by `lab status`).
//   config: {"timeoutMs": 500, "pidFile", "statusFile",
//            "nodes": [{"id": "n1", "name": "node1", "device": ".../node1.fifo", "stateDir": ".../node1"}]}
//   status: {"pid", "timeoutMs", "nodes": [NodeWatchdogStatus]}
import { LabError } from './lab-error.js';
import type { NodeWatchdogStatus, WatchdogNode } from './watchdog.js';

export interface WatchdogConfig {
  /** T_wd, ms. */
  timeoutMs: number;
  /** Written once every device is open (the readiness signal): {pid, startTime}. */
  pidFile: string;
  statusFile: string;
  nodes: WatchdogNode[];
}

export interface WatchdogStatusFile {
  pid: number;
  timeoutMs: number;
  nodes: NodeWatchdogStatus[];
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isWholeMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** The config, or E_INVALID naming every problem. */
export function parseWatchdogConfig(value: unknown): WatchdogConfig {
  const problems: string[] = [];
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null) problems.push('expected a JSON object');
  if (!isWholeMs(v.timeoutMs)) problems.push('timeoutMs: expected a whole number of ms above 0');
  for (const key of ['pidFile', 'statusFile']) if (!isText(v[key])) problems.push(`${key}: expected a path`);
  if (!Array.isArray(v.nodes) || v.nodes.length === 0) problems.push('nodes: expected a non-empty array');
  else {
    v.nodes.forEach((node: unknown, i) => {
      const n = (typeof node === 'object' && node !== null ? node : {}) as Record<string, unknown>;
      for (const key of ['id', 'name', 'device', 'stateDir']) if (!isText(n[key])) problems.push(`nodes[${i}].${key}: expected a non-empty string`);
    });
  }
  if (problems.length > 0) throw new LabError('E_INVALID', 'watchdog config', problems);
  return v as unknown as WatchdogConfig;
}

/** The status file's content, or null when it is not one (absent, damaged). */
export function parseWatchdogStatus(value: unknown): WatchdogStatusFile | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!isWholeMs(v.pid) || !isWholeMs(v.timeoutMs) || !Array.isArray(v.nodes)) return null;
  const states = ['idle', 'armed', 'disarmed', 'reset'];
  const ok = v.nodes.every((node: unknown) => {
    const n = (typeof node === 'object' && node !== null ? node : {}) as Record<string, unknown>;
    return isText(n.id) && isText(n.name) && states.includes(n.state as string) && typeof n.resets === 'number' && Number.isSafeInteger(n.resets) && n.resets >= 0;
  });
  return ok ? (v as unknown as WatchdogStatusFile) : null;
}
