// The transport's peer table, kept in step with the cluster database's nodes.
// A peer that leaves the table stays trusted for a short grace period, so
// that the answer to the request that removed it (or that told this node to
// leave) still goes out on its link; then it is dropped and its connections
// are refused.
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../consensus/types.js';
import type { PeerAddress, SshTransport } from '../transport/transport.js';
import type { Logger } from './logger.js';

/** How long a departed peer stays trusted, ms. */
export const DEPARTURE_GRACE_MS = 1000;

export class PeerRoster {
  private wanted: PeerAddress[] = [];
  private readonly departing = new Map<NodeId, { address: PeerAddress; until: number }>();
  private applied = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly transport: SshTransport, private readonly log: Logger) {}

  /** The peers this node should trust and dial now. */
  set(peers: PeerAddress[]): void {
    const now = performance.now();
    const next = new Set(peers.map((p) => p.id));
    for (const old of this.wanted) {
      if (!next.has(old.id) && !this.departing.has(old.id)) this.departing.set(old.id, { address: old, until: now + DEPARTURE_GRACE_MS });
    }
    for (const id of next) this.departing.delete(id);
    this.wanted = peers;
    this.apply();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private apply(): void {
    const now = performance.now();
    for (const [id, d] of this.departing) if (d.until <= now) this.departing.delete(id);
    const table = [...this.wanted, ...[...this.departing.values()].map((d) => d.address)];
    const key = JSON.stringify(table);
    if (key !== this.applied) {
      this.applied = key;
      this.transport.updatePeers(table);
      this.log.info('peer table updated', { peers: this.wanted.map((p) => `${p.id}@${p.host}:${p.port}`), departing: [...this.departing.keys()] });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = Math.min(...[...this.departing.values()].map((d) => d.until));
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.apply(), Math.max(0, next - now));
  }
}
