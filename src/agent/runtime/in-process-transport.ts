// A transport between runtimes in one process, for the database benchmark
// and integration tests of the runtime: the same Transport contract as SSH,
// delivered on a later turn of the event loop (never re-entrantly), in order.
import type { NodeId } from '../consensus/types.js';
import type { Lane, MessageHandler, Transport } from '../transport/transport.js';

export class InProcessNetwork {
  private readonly endpoints = new Map<NodeId, InProcessTransport>();

  endpoint(id: NodeId): InProcessTransport {
    const transport = new InProcessTransport(id, this);
    this.endpoints.set(id, transport);
    return transport;
  }

  /** @internal */
  deliver(from: NodeId, to: NodeId, message: object, lane: Lane): boolean {
    const target = this.endpoints.get(to);
    if (!target) return false;
    // Serialize like the wire does, so no object is shared between nodes.
    const copy = JSON.parse(JSON.stringify(message)) as object;
    setImmediate(() => target.receive(copy, from, lane));
    return true;
  }

  /** @internal */
  remove(id: NodeId): void {
    this.endpoints.delete(id);
  }
}

export class InProcessTransport implements Transport {
  private readonly handlers: MessageHandler[] = [];
  private closed = false;

  constructor(private readonly id: NodeId, private readonly network: InProcessNetwork) {}

  send(to: NodeId, message: object, lane: Lane): boolean {
    if (this.closed) return false;
    return this.network.deliver(this.id, to, message, lane);
  }

  onMessage(handler: MessageHandler): void {
    this.handlers.push(handler);
  }

  /** @internal */
  receive(message: object, from: NodeId, lane: Lane): void {
    if (this.closed) return;
    for (const handler of this.handlers) handler(message, from, lane);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.remove(this.id);
  }
}
