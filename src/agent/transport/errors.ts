// Stable codes for everything the transport refuses or loses. Callers and
// tests match on `code`, never on the English message.

import type { NodeId } from '../consensus/types.js';

export type TransportErrorCode =
  /** A frame's declared length exceeds the configured maximum. */
  | 'E_FRAME_TOO_LARGE'
  /** A frame's length is zero, or its body is not UTF-8 JSON of an object. */
  | 'E_FRAME_MALFORMED'
  /** A key file or key line cannot be parsed, or is not the expected kind. */
  | 'E_KEY_INVALID'
  /** A peer table entry is unusable (see validatePeerTable for the full list). */
  | 'E_PEER_INVALID'
  /** A private key file is readable by group or others. */
  | 'E_KEY_PERMISSIONS'
  /** A peer presented a host key other than the pinned one. */
  | 'E_HOST_KEY_MISMATCH'
  /** The peer refused our login (our client key is not authorised there). */
  | 'E_AUTH_REFUSED'
  /** Server side: a login offered a key that no one authorised. */
  | 'E_UNKNOWN_KEY'
  /** Server side: an authorised key was offered with a signature that does not verify. */
  | 'E_BAD_SIGNATURE'
  /** Server side: a login tried a method other than publickey. */
  | 'E_AUTH_METHOD'
  /** Server side: no successful login within the grace period. */
  | 'E_LOGIN_TIMEOUT'
  /** The peer refused the subsystem (fcm-peer / fcm-bulk) we asked for. */
  | 'E_SUBSYSTEM_REFUSED'
  /** TCP connect, handshake timeout, keepalive loss or another socket-level failure. */
  | 'E_CONNECTION'
  /** Tunnel mode: the peer's sshd refused to forward to the agent's Unix socket (forwarding off, no socket, no permission). */
  | 'E_TUNNEL_REFUSED'
  /** The Unix socket path the server should listen on is a live socket or not a socket at all. */
  | 'E_SOCKET_IN_USE'
  /** The worker that encodes or decodes large frames failed or was stopped; the frame is lost. */
  | 'E_WORKER_FAILED';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Something the transport noticed and handled (refused, closed, dropped), reported for logs and metrics. */
export interface TransportProblem {
  code: TransportErrorCode;
  message: string;
  /** The peer a link was dialling, or the authenticated peer of an inbound connection. */
  peer?: NodeId;
  /** `ip:port` of an inbound connection. */
  remote?: string;
}

export type ProblemHandler = (problem: TransportProblem) => void;
