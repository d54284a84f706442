// Which Miroir pods are alive (SPEC H2 Mode A): the discovered peers (static list or DNS) that also hold a live
// `pod:<url>` lease in the store, which every pod renews on the leader-election schedule. Mode A work (task-status
// polling, task pruning) is partitioned by rendezvous over these live peers, so a pod that dies stops owning work
// within one lease TTL even when the static peer list still names it. Gauges: `miroir_peer_pod_count` (live peers)
// and `miroir_owned_shards_count` (shards this pod owns among them).
import { ownedItems, owns, type OwnedItem } from '../../core/ownership.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';
import { every, type Periodic } from '../util/periodic.js';
import type { PeerDiscovery } from './peers.js';

export interface MembershipOptions {
  store: Pick<Store, 'acquireLease' | 'releaseLease' | 'getLease'>;
  discovery: PeerDiscovery;
  /** This pod's base URL (its entry in the peer list) and id (lease owner). */
  selfUrl: string;
  podId: string;
  ttlMs: number;
  renewMs: number;
  shards: () => number;
  peerGauge?: { set(n: number): void };
  ownedGauge?: { set(n: number): void };
  logger?: Logger | null;
}

const scopeOf = (url: string) => `pod:${url}`;

export class PodMembership {
  private readonly o: MembershipOptions;
  private live: string[];
  private loop: Periodic | null = null;

  constructor(opts: MembershipOptions) {
    this.o = opts;
    this.live = [opts.selfUrl];
  }

  /** Live peers, sorted, this pod included. */
  peers(): string[] {
    return this.live;
  }

  owns(item: OwnedItem): boolean {
    return owns(item, this.o.selfUrl, this.live);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.loop = every(this.o.renewMs, () => this.refresh(), {
      onError: (err) => this.o.logger?.warn({ err }, 'refreshing live peers failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.o.store.releaseLease(scopeOf(this.o.selfUrl), this.o.podId).catch(() => undefined);
  }

  async refresh(): Promise<void> {
    await this.o.store.acquireLease(scopeOf(this.o.selfUrl), this.o.podId, this.o.ttlMs);
    const candidates = this.o.discovery.peers();
    const alive = await Promise.all(
      candidates.map(async (url) => url === this.o.selfUrl || (await this.o.store.getLease(scopeOf(url))) !== null),
    );
    const next = candidates.filter((_, i) => alive[i]);
    if (!next.includes(this.o.selfUrl)) next.push(this.o.selfUrl);
    next.sort();
    if (next.join(' ') !== this.live.join(' ')) this.o.logger?.info({ peers: next }, 'live Miroir pods changed');
    this.live = next;
    this.o.peerGauge?.set(next.length);
    this.o.ownedGauge?.set(
      ownedItems(
        Array.from({ length: this.o.shards() }, (_, s) => s),
        this.o.selfUrl,
        next,
      ).length,
    );
  }
}
