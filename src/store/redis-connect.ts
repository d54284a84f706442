// Opens the ioredis client of the shared store: one node (`url`), a Sentinel-managed master (`sentinels` + `name`)
// or a Redis Cluster (`cluster`), with ACL credentials and TLS. Calls never queue while Redis is away (they fail at
// once and the store reports StoreUnavailableError); reconnection continues with backoff. Start-up fails fast with
// an error naming the config key at fault (a refused password, a certificate, an unreachable Redis).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from './store.js';

export type RedisClient = Redis | Cluster;

export interface RedisTls {
  enabled: boolean;
  /** PEM file paths. */
  ca: string | null;
  cert: string | null;
  key: string | null;
  rejectUnauthorized: boolean;
}

/** Where the store's Redis is and how to log in (task_store.redis; exactly one of url, sentinels, cluster). */
export interface RedisTarget {
  url?: string;
  sentinels?: ReadonlyArray<{ host: string; port: number }>;
  /** Sentinel master group. */
  name?: string;
  cluster?: readonly string[];
  username?: string | null;
  password?: string | null;
  tls?: RedisTls | null;
  connectTimeoutMs?: number;
  /**
   * A command without a reply for this long fails (→ StoreUnavailableError), and a connection that sent commands and
   * heard nothing back for this long is dropped, so a Sentinel or Cluster client finds the current master again. A
   * master that stops answering without closing its sockets (paused, wedged, a network partition) would otherwise
   * hold every call forever. Default DEFAULT_REPLY_TIMEOUT_MS.
   */
  replyTimeoutMs?: number;
}

/** A command's reply timeout unless the target names one (`RedisTarget.replyTimeoutMs`). */
export const DEFAULT_REPLY_TIMEOUT_MS = 5000;

const RETRY = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

const AUTH = /WRONGPASS|NOAUTH|invalid username-password|AUTH.*failed|invalid password/i;
const TLS = /certificate|self.signed|SSL|TLS|EPROTO|handshake/i;
const KEYED = new RegExp(`${AUTH.source}|${TLS.source}|NOPERM`, 'i');

/** The config key a start-up failure points at, and what to say. */
function explain(t: RedisTarget, err: Error | null): string {
  const where =
    t.cluster !== undefined && t.cluster.length > 0
      ? `task_store.redis.cluster ${t.cluster.map(redact).join(', ')}`
      : t.sentinels !== undefined && t.sentinels.length > 0
        ? `task_store.redis.sentinels ${t.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')} (master group ${t.name})`
        : `task_store.redis.url ${redact(t.url ?? '')}`;
  const msg = err?.message ?? 'no answer';
  if (AUTH.test(msg))
    return `task_store.redis.password: Redis refused the credentials of user ${t.username ?? 'default'} at ${where}: ${msg}`;
  if (/NOPERM/i.test(msg)) return `task_store.redis.username: the ACL user may not run Miroir's commands: ${msg}`;
  if (TLS.test(msg)) return `task_store.redis.tls: the TLS connection to ${where} failed: ${msg}`;
  return `${where}: cannot connect to Redis: ${msg}`;
}

/** A URL with its password hidden (for messages). */
function redact(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

function tlsOptions(tls: RedisTls): ConnectionOptions {
  const read = (file: string | null) => (file === null ? undefined : readFileSync(file));
  return { ca: read(tls.ca), cert: read(tls.cert), key: read(tls.key), rejectUnauthorized: tls.rejectUnauthorized };
}

function baseOptions(t: RedisTarget): RedisOptions {
  const opts: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: t.connectTimeoutMs ?? 5000,
    commandTimeout: t.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    socketTimeout: t.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    retryStrategy: RETRY,
    lazyConnect: true,
  };
  const tlsOn = t.tls?.enabled === true || [t.url ?? '', ...(t.cluster ?? [])].some((u) => u.startsWith('rediss:'));
  if (tlsOn) opts.tls = t.tls === undefined || t.tls === null ? {} : tlsOptions(t.tls);
  return opts;
}

/** host, port, db and credentials of a redis:// URL; the configured username/password win over the URL's. */
function fromUrl(url: string, t: RedisTarget): RedisOptions {
  const u = new URL(url);
  const out: RedisOptions = { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 6379 : Number(u.port) };
  if (u.pathname.length > 1) out.db = Number(u.pathname.slice(1));
  const username = t.username ?? (u.username === '' ? null : decodeURIComponent(u.username));
  const password = t.password ?? (u.password === '' ? null : decodeURIComponent(u.password));
  if (username !== null) out.username = username;
  if (password !== null) out.password = password;
  return out;
}

function create(t: RedisTarget): RedisClient {
  const opts = baseOptions(t);
  if (t.cluster !== undefined && t.cluster.length > 0) {
    const seeds = t.cluster.map((url) => fromUrl(url, t));
    const redisOptions: RedisOptions = { ...opts, username: seeds[0]!.username, password: seeds[0]!.password };
    delete redisOptions.retryStrategy;
    delete redisOptions.lazyConnect;
    const clusterOptions: ClusterOptions = {
      redisOptions,
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRedirections: 16,
      clusterRetryStrategy: RETRY,
      slotsRefreshTimeout: opts.connectTimeout,
    };
    return new Cluster(
      seeds.map((s) => ({ host: s.host!, port: s.port! })),
      clusterOptions,
    );
  }
  if (t.sentinels !== undefined && t.sentinels.length > 0) {
    const sentinelOpts: RedisOptions = {
      ...opts,
      sentinels: t.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: t.name,
      role: 'master',
      failoverDetector: true,
      sentinelRetryStrategy: RETRY,
      sentinelCommandTimeout: opts.connectTimeout,
    };
    if (t.username !== undefined && t.username !== null) sentinelOpts.username = t.username;
    if (t.password !== undefined && t.password !== null) sentinelOpts.password = t.password;
    if (opts.tls !== undefined) {
      sentinelOpts.enableTLSForSentinelMode = true;
      sentinelOpts.sentinelTLS = opts.tls;
    }
    return new Redis(sentinelOpts);
  }
  return new Redis({ ...opts, ...fromUrl(t.url ?? '', t) });
}

/** Connects and waits until Redis answers (at most connectTimeoutMs), else throws StoreUnavailableError. */
export async function connectRedis(t: RedisTarget): Promise<RedisClient> {
  const client = create(t);
  let lastError: Error | null = null;
  // Failures are reported per call as StoreUnavailableError; reconnection continues in the background. A refused
  // login or certificate is kept over later, vaguer errors (a Cluster then reports only that no node answered).
  const note = (err: Error) => {
    if (lastError === null || !KEYED.test(lastError.message)) lastError = err;
  };
  client.on('error', note);
  if (client instanceof Cluster) client.on('node error', note);
  const timeoutMs = t.connectTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (client instanceof Cluster) await client.ping(); // the slot map is known and a master answers
  } catch (err) {
    client.disconnect();
    throw new StoreUnavailableError(explain(t, lastError ?? (err instanceof Error ? err : new Error(String(err)))));
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** A second connection for pub/sub (subscriptions wait for reconnection instead of failing). */
export function duplicateForSubscribe(client: RedisClient): RedisClient {
  // A subscription waits for the reconnection rather than failing on the reply timeout (the socket timeout still
  // drops a connection that hears nothing back, and ioredis subscribes again on the next one).
  const waiting = { enableOfflineQueue: true, lazyConnect: false };
  if (client instanceof Cluster)
    return client.duplicate([], {
      ...waiting,
      redisOptions: { ...client.options.redisOptions, commandTimeout: undefined },
    });
  return client.duplicate({ ...waiting, commandTimeout: undefined });
}
