// Peer traffic shares one transport as small envelopes, `{ch, m}`:
//   raft   consensus messages (the runtime's own Transport)
//   lease  node lease requests and grants
//   api    API requests forwarded to the leader, and their answers
//   groups resource state reports to the leader, the leader's restart and stop orders
// Each channel gets an endpoint with the Transport contract, so the
// consensus runtime needs no knowledge of the others.
import type { NodeId } from '../consensus/types.js';
import type { Lane, MessageHandler, Transport } from '../transport/transport.js';
import { isObject } from './state-files.js';

export type PeerChannel = 'raft' | 'lease' | 'api' | 'groups';

const CHANNELS: readonly string[] = ['raft', 'lease', 'api', 'groups'];

export class PeerChannels {
  private readonly endpoints = new Map<PeerChannel, Set<ChannelEndpoint>>();
  private readonly heardHandlers: ((from: NodeId) => void)[] = [];
  /** Envelopes without a known channel, dropped. */
  dropped = 0;

  constructor(private readonly transport: Transport) {
    transport.onMessage((raw, from, lane) => this.route(raw, from, lane));
  }

  /** Called for every message from a peer, whatever its channel: the liveness view's "last heard". */
  onHeard(handler: (from: NodeId) => void): void {
    this.heardHandlers.push(handler);
  }

  endpoint(ch: PeerChannel): ChannelEndpoint {
    const endpoint = new ChannelEndpoint(ch, this.transport, () => this.endpoints.get(ch)?.delete(endpoint));
    const set = this.endpoints.get(ch) ?? new Set();
    set.add(endpoint);
    this.endpoints.set(ch, set);
    return endpoint;
  }

  private route(raw: object, from: NodeId, lane: Lane): void {
    for (const handler of this.heardHandlers) handler(from);
    const envelope = raw as Record<string, unknown>;
    if (typeof envelope.ch !== 'string' || !CHANNELS.includes(envelope.ch) || !isObject(envelope.m)) {
      this.dropped++;
      return;
    }
    for (const endpoint of this.endpoints.get(envelope.ch as PeerChannel) ?? []) endpoint.deliver(envelope.m, from, lane);
  }
}

/** One channel's view of the transport. Closing it detaches it; the transport itself stays open. */
export class ChannelEndpoint implements Transport {
  private readonly handlers: MessageHandler[] = [];

  constructor(
    readonly channel: PeerChannel,
    private readonly transport: Transport,
    private readonly detach: () => void,
  ) {}

  send(to: NodeId, message: object, lane: Lane): boolean {
    return this.transport.send(to, { ch: this.channel, m: message }, lane);
  }

  onMessage(handler: MessageHandler): void {
    this.handlers.push(handler);
  }

  /** @internal */
  deliver(message: object, from: NodeId, lane: Lane): void {
    for (const handler of this.handlers) handler(message, from, lane);
  }

  async close(): Promise<void> {
    this.handlers.length = 0;
    this.detach();
  }
}
