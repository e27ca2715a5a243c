// The lab as a target for the CLI's commands (client/target.ts): the
// sockets of its nodes, or undefined when no lab is named anywhere.
import { homedir } from 'node:os';
import type { LabLookup } from '../client/target.js';
import { openLab } from './lab-control.js';
import { LabError } from './lab-error.js';

type Env = Readonly<Record<string, string | undefined>>;

export function labLookup(env: Env = process.env, home = homedir()): LabLookup {
  return async (explicit) => {
    try {
      const state = await openLab(explicit, env, home);
      return { dir: state.dir, nodes: state.nodes.map((n) => ({ id: n.id, name: n.name, socket: n.socketPath, address: `${n.publicAddress.host}:${n.publicAddress.port}` })) };
    } catch (err) {
      // Only "no lab named anywhere" falls through to the local agent; a named lab that is missing is an error.
      if (err instanceof LabError && err.code === 'E_NO_LAB' && !labNamed(explicit, env)) return undefined;
      throw err;
    }
  };
}

function labNamed(explicit: string | undefined, env: Env): boolean {
  return (explicit !== undefined && explicit !== '') || (env.FCM_LAB !== undefined && env.FCM_LAB !== '');
}
