// Idempotent writes (SPEC A10, Round 2 "Idempotency"): one wrapper around every write route. A request with an
// `Idempotency-Key` claims the key (scoped by the API key that sent it) in the store; the first claimant runs the
// write and stores its answer for `idempotency.ttl_seconds`; a repeat with the same fingerprint gets that answer
// again with `Idempotent-Replayed: true` (waiting while the first is still running, on any pod); another
// fingerprint gets 409 miroir_idempotency_key_reused. An attempt that fails (4xx/5xx or an error) gives the key back,
// so a retry runs again. A claimant that dies stops renewing its claim; a waiter takes the key over once it lapses.
import { createHash, randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import { parseIdempotencyKey, requestFingerprint } from '../../core/idempotency.js';
import type { Store } from '../../store/store.js';
import type { Reply, RequestContext } from '../../http/server.js';
import type { Metrics } from '../observability/metrics.js';

export interface IdempotencyOptions {
  store: Store;
  metrics: Metrics;
  /** `idempotency.ttl_seconds` in ms. */
  ttlMs: number;
  /** How long a running claim lives without renewal (renewed every third of it). */
  claimLeaseMs?: number;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

interface Pending {
  fp: string;
  state: 'pending';
  /** The attempt holding the key. */
  owner: string;
  /** Wall-clock ms: the claim lapses here unless renewed. */
  until: number;
}

interface Done {
  fp: string;
  state: 'done';
  status: number;
  body: string | null;
  headers: Record<string, string>;
}

type Entry = Pending | Done;

const DEFAULT_LEASE_MS = 10_000;

function scopeOf(auth: AuthResult | null): string {
  if (auth === null || auth.kind === 'open') return 'open';
  if (auth.kind === 'master') return 'master';
  return `key:${auth.key.uid}`;
}

function mediaType(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  return raw.split(';')[0]!.trim().toLowerCase() || null;
}

function replay(done: Done): Reply {
  return {
    status: done.status,
    raw: done.body ?? undefined,
    headers: { ...done.headers, 'idempotent-replayed': 'true' },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Idempotency {
  private readonly leaseMs: number;

  constructor(private readonly o: IdempotencyOptions) {
    this.leaseMs = o.claimLeaseMs ?? DEFAULT_LEASE_MS;
    const count = () => this.count();
    new Gauge({
      name: 'miroir_idempotency_cache_size',
      help: 'Idempotency keys kept in the task store (every pod)',
      registers: [o.metrics.registry],
      async collect() {
        this.set(await count().catch(() => 0));
      },
    });
  }

  /** Wraps a write route's handler; requests without the header go straight through (one header lookup). */
  wrap(handler: Handler): Handler {
    return (ctx) => {
      const raw = ctx.req.headers['idempotency-key'];
      return raw === undefined ? handler(ctx) : this.run(ctx, parseIdempotencyKey(raw), handler);
    };
  }

  private async run(ctx: RequestContext<AuthResult>, key: string, handler: Handler): Promise<Reply> {
    const url = ctx.req.url ?? '';
    const q = url.indexOf('?');
    const fp = requestFingerprint({
      method: ctx.method,
      path: ctx.path,
      query: q === -1 ? '' : url.slice(q + 1),
      contentType: mediaType(ctx.req.headers['content-type']),
      body: ctx.rawBody,
      json: ctx.json,
    });
    const storeKey = createHash('sha256')
      .update(`${scopeOf(ctx.auth)}\n${key}`)
      .digest('hex');
    const { store } = this.o;
    const hits = this.o.metrics.idempotencyHits;
    let waited = false;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const current = await store.getExpiring('idemp', storeKey);
      const entry = current === null ? null : (JSON.parse(current) as Entry);
      if (entry !== null && entry.fp !== fp) {
        hits.inc({ outcome: 'conflict' });
        throw new MeiliError(
          'miroir_idempotency_key_reused',
          'This `Idempotency-Key` was already used for a different request (method, path, query or body).',
        );
      }
      if (entry !== null && entry.state === 'done') {
        hits.inc({ outcome: waited ? 'waited' : 'replayed' });
        return replay(entry);
      }
      if (entry === null || entry.until <= Date.now()) {
        const claim: Pending = { fp, state: 'pending', owner: randomUUID(), until: Date.now() + this.leaseMs };
        const text = JSON.stringify(claim);
        if (await store.casExpiring('idemp', storeKey, current, text, this.o.ttlMs)) {
          hits.inc({ outcome: 'new' });
          return this.execute(ctx, storeKey, claim, text, handler);
        }
        continue;
      }
      waited = true;
      await sleep(delay);
    }
  }

  /** Runs the write holding the claim (renewed while it runs) and stores its answer, or gives the key back. */
  private async execute(
    ctx: RequestContext<AuthResult>,
    storeKey: string,
    claim: Pending,
    claimText: string,
    handler: Handler,
  ): Promise<Reply> {
    const { store } = this.o;
    let held = claimText;
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        renewing = renewing.then(async () => {
          const next = JSON.stringify({ ...claim, until: Date.now() + this.leaseMs });
          if (await store.casExpiring('idemp', storeKey, held, next, this.o.ttlMs).catch(() => false)) held = next;
        });
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    let reply: Reply;
    try {
      reply = await handler(ctx);
    } catch (err) {
      clearInterval(timer);
      await renewing;
      await store.casExpiring('idemp', storeKey, held, null, 0).catch(() => false);
      throw err;
    }
    clearInterval(timer);
    await renewing;
    if (reply.status >= 300) {
      await store.casExpiring('idemp', storeKey, held, null, 0).catch(() => false);
      return reply;
    }
    const body =
      reply.raw !== undefined ? reply.raw.toString() : reply.body === undefined ? null : JSON.stringify(reply.body);
    const done: Done = { fp: claim.fp, state: 'done', status: reply.status, body, headers: { ...reply.headers } };
    // The answer must be kept before it is given: a retry after a lost answer has to find it.
    await store.casExpiring('idemp', storeKey, held, JSON.stringify(done), this.o.ttlMs);
    return body === null
      ? { status: reply.status, headers: reply.headers }
      : { status: reply.status, raw: body, headers: reply.headers };
  }

  /** Live idempotency keys (for `miroir ctl status` and the cache-size gauge). */
  count(): Promise<number> {
    return this.o.store.countExpiring('idemp');
  }
}
