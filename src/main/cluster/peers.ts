// Peer discovery (SPEC H2 "Discovery", config `peer_discovery`): owns the list of Miroir pods this pod partitions
// Mode A work with (src/core/ownership.ts). Static mode uses the configured URLs; dns mode looks up the headless
// service every refresh — SRV first (one peer per record, targets resolved to IPv4 so they compare equal to the
// POD_IP-based self URL), else A records on this pod's port — keeping the last good list when a lookup fails or
// finds nothing. The list is always normalized (origin + path, no trailing slash), sorted, deduplicated and
// includes self. Leases and job claims never depend on it (they coordinate through the store).
// Also `podIdentity`: this pod's id (lease owner, logs) and base URL from POD_NAME / POD_IP / hostname.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { every, type Periodic } from '../util/periodic.js';

export interface PeerResolver {
  resolveSrv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
  resolve4(name: string): Promise<string[]>;
}

export interface PeerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PeerDiscoveryOptions {
  mode: 'static' | 'dns';
  /** Configured base URLs (static mode). */
  peers: readonly string[];
  /** Name looked up in dns mode (e.g. `miroir-headless`, or `_http._tcp.miroir-headless` to select one port). */
  serviceName: string;
  refreshIntervalMs: number;
  /** This pod's base URL; always part of the list. */
  self: string;
  /** This pod's port, used for peers found through A records. */
  port: number;
  /** DNS client; defaults to a fresh node:dns/promises Resolver using the system's servers. */
  resolver?: PeerResolver;
  /** Called with the new list whenever it changes (not for the initial static list). */
  onChange?: (peers: string[]) => void;
  logger?: PeerLogger;
  /** Receives the peer count after every refresh (`miroir_peer_pod_count`). */
  gauge?: { set(n: number): void };
}

/** A base URL in canonical form: `scheme://host[:port][/path]`, lowercase host, no default port, no trailing slash. */
export function normalizePeerUrl(raw: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function sortedUnique(urls: Iterable<string>): string[] {
  return [...new Set(urls)].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function hostPart(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** DNS "this name has no such records" (as opposed to a failed lookup). */
function isNoData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

export class PeerDiscovery {
  readonly selfId: string;
  private readonly opts: PeerDiscoveryOptions;
  private readonly resolver: PeerResolver;
  private readonly ownResolver: Resolver | null;
  private list: string[];
  private loop: Periodic | null = null;
  private inflight: Promise<string[]> | null = null;
  private started = false;
  private stopped = false;

  constructor(opts: PeerDiscoveryOptions) {
    this.opts = opts;
    this.selfId = normalizePeerUrl(opts.self);
    this.ownResolver = opts.resolver === undefined ? new Resolver() : null;
    this.resolver = opts.resolver ?? this.ownResolver!;
    this.list = opts.mode === 'static' ? this.withSelf(opts.peers.map(normalizePeerUrl)) : [this.selfId];
  }

  /** The current peer list (sorted, self included). */
  peers(): string[] {
    return [...this.list];
  }

  /** Static: publishes the list. DNS: one lookup before resolving, then one every refreshIntervalMs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.opts.mode === 'static') {
      this.opts.gauge?.set(this.list.length);
      return;
    }
    await this.refresh();
    this.loop = every(this.opts.refreshIntervalMs, () => this.refresh());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    this.ownResolver?.cancel();
    await this.inflight?.catch(() => undefined);
  }

  /** Looks the peers up now (dns mode) and returns the resulting list; concurrent calls share one lookup. */
  refresh(): Promise<string[]> {
    if (this.opts.mode === 'static') return Promise.resolve(this.peers());
    if (this.inflight === null) {
      this.inflight = this.refreshOnce().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private withSelf(urls: Iterable<string>): string[] {
    return sortedUnique([...urls, this.selfId]);
  }

  private async refreshOnce(): Promise<string[]> {
    await this.update();
    if (!this.stopped) this.opts.gauge?.set(this.list.length);
    return this.peers();
  }

  private async update(): Promise<void> {
    let found: string[];
    try {
      found = await this.lookup();
    } catch (err) {
      if (!this.stopped) {
        this.opts.logger?.warn(
          { service: this.opts.serviceName, err: String(err), peers: this.list },
          'peer lookup failed; keeping the last peer list',
        );
      }
      return;
    }
    if (this.stopped) return;
    if (found.length === 0) {
      this.opts.logger?.warn(
        { service: this.opts.serviceName, peers: this.list },
        'peer lookup found no SRV or A records; keeping the last peer list',
      );
      return;
    }
    const next = this.withSelf(found.map(normalizePeerUrl));
    if (!sameList(next, this.list)) {
      this.list = next;
      this.opts.logger?.info({ peers: next }, 'peer list changed');
      try {
        this.opts.onChange?.(this.peers());
      } catch (err) {
        this.opts.logger?.warn({ err: String(err) }, 'peer onChange handler threw');
      }
    }
  }

  /** Peer URLs from DNS; empty when the name has neither SRV nor A records; throws when a lookup fails. */
  private async lookup(): Promise<string[]> {
    const name = this.opts.serviceName;
    let srv: Awaited<ReturnType<PeerResolver['resolveSrv']>> = [];
    try {
      srv = await this.resolver.resolveSrv(name);
    } catch (err) {
      if (!isNoData(err)) throw err;
    }
    if (srv.length > 0) {
      const perRecord = await Promise.all(
        srv.map(async (r) => (await this.addressesOf(r.name)).map((host) => `http://${hostPart(host)}:${r.port}`)),
      );
      return perRecord.flat();
    }
    let ips: string[] = [];
    try {
      ips = await this.resolver.resolve4(name);
    } catch (err) {
      if (!isNoData(err)) throw err;
    }
    return ips.map((ip) => `http://${hostPart(ip)}:${this.opts.port}`);
  }

  /** IPv4 addresses of an SRV target (the target itself when it is an IP or has no A record). */
  private async addressesOf(target: string): Promise<string[]> {
    const host = target.replace(/\.$/, '');
    if (isIP(host) !== 0) return [host];
    try {
      const ips = await this.resolver.resolve4(host);
      return ips.length > 0 ? ips : [host];
    } catch (err) {
      if (isNoData(err)) return [host];
      throw err;
    }
  }
}

export interface PodIdentityInput {
  env: Readonly<Record<string, string | undefined>>;
  hostname: string;
  /** The bound server port. */
  port: number;
  /** `peer_discovery.self` from config (null/undefined: derive it). */
  selfUrl?: string | null;
}

/** This pod's id (POD_NAME, else `hostname:port`) and base URL (config `self`, else `http://POD_IP|hostname:port`). */
export function podIdentity(input: PodIdentityInput): { id: string; url: string } {
  const podName = input.env.POD_NAME;
  const id = podName !== undefined && podName !== '' ? podName : `${input.hostname}:${input.port}`;
  const podIp = input.env.POD_IP;
  const host = podIp !== undefined && podIp !== '' ? podIp : input.hostname;
  const url =
    input.selfUrl !== undefined && input.selfUrl !== null && input.selfUrl !== ''
      ? input.selfUrl
      : `http://${hostPart(host)}:${input.port}`;
  return { id, url: normalizePeerUrl(url) };
}
