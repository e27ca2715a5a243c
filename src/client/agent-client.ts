// A connection to one node agent's API, whatever carries it: the agent's
// Unix socket, an SSH channel to its embedded server, or (inside the agent,
// for commands that arrive by `ssh host fcm-command`) a direct call.
import type { ApiMethod, ApiParams, ApiResult } from './api.js';

export interface AgentClient {
  /** Calls one method; rejects with an `ApiCallError` carrying the agent's error code. */
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>>;
  close(): Promise<void>;
}

export class ApiCallError extends Error {
  constructor(readonly code: string, message: string, readonly hint?: string, readonly reports?: unknown[]) {
    super(message);
  }
}
