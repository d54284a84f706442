// The admin routes of integrity over time (SPEC C10, A8, A14): `POST /_miroir/antientropy/run {index?, shard?,
// repair?}` runs a pass now and answers its summary; `GET /_miroir/antientropy/status` answers the last pass of every
// shard; `POST|GET /_miroir/indexes/{uid}/ttl-policy` sets and reads an index's TTL policy; `POST
// /_miroir/indexes/{uid}/ttl-sweep` sweeps an index now (every shard). A capability that is off answers 501.
import { z } from 'zod';
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE } from '../../core/auth/route-actions.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import type { Reply, RequestContext, RouteSpec } from '../../http/server.js';
import type { Store } from '../../store/store.js';
import type { RouteGuard } from '../api/routes.js';
import type { IndexStateService } from '../state/index-state.js';
import type { AntiEntropy } from './anti-entropy.js';
import type { TtlSweeper } from './ttl-sweeper.js';

export interface IntegrityRouteDeps {
  store: Store;
  state: IndexStateService;
  antiEntropy: AntiEntropy | null;
  ttl: TtlSweeper | null;
}

const runSchema = z.strictObject({
  index: z.string().min(1).optional(),
  shard: z.number().int().min(0).optional(),
  repair: z.boolean().optional(),
});

const policySchema = z.strictObject({
  enabled: z.boolean().optional(),
  sweep_interval_s: z.number().int().min(1).optional(),
  max_deletes_per_sweep: z.number().int().min(1).optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new MeiliError('bad_request', `Invalid ${what} at \`${issue.path.join('.') || 'body'}\`: ${issue.message}.`);
}

function off(what: string, key: string): never {
  throw new MeiliError('miroir_not_supported', `${what} is off: set \`${key}: true\` in the config.`);
}

export function registerIntegrityRoutes(routes: Array<RouteSpec<AuthResult>>, deps: IntegrityRouteDeps): void {
  const guard: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };
  const add = (
    method: 'GET' | 'POST',
    path: string,
    handler: (ctx: RequestContext<AuthResult>) => Promise<Reply>,
    body: 'none' | 'raw' = method === 'GET' ? 'none' : 'raw',
  ) => routes.push({ method, path, name: path, body, auth: guard, handler });
  /** A JSON object body, or {} when none was sent. */
  const jsonOf = (ctx: RequestContext<AuthResult>): unknown => {
    const raw = ctx.rawBody;
    if (raw === null || raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new MeiliError('malformed_payload', 'The body is not valid JSON.');
    }
  };

  add('POST', '/_miroir/antientropy/run', async (ctx) => {
    if (deps.antiEntropy === null) off('Anti-entropy', 'anti_entropy.enabled');
    const req = parse(runSchema, jsonOf(ctx), 'anti-entropy run');
    return { status: 200, body: await deps.antiEntropy.run(req) };
  });
  add('GET', '/_miroir/antientropy/status', async () => {
    if (deps.antiEntropy === null) return { status: 200, body: { enabled: false, shards: [] } };
    return { status: 200, body: await deps.antiEntropy.status() };
  });

  const existing = async (raw: string): Promise<string> => {
    const uid = checkIndexUid(raw);
    if (!(await deps.state.projected(uid)).exists)
      throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
    return uid;
  };
  add('POST', '/_miroir/indexes/:uid/ttl-policy', async (ctx) => {
    if (deps.ttl === null) off('Document TTL', 'ttl.enabled');
    const uid = await existing(ctx.params.uid!);
    const policy = parse(policySchema, jsonOf(ctx), 'TTL policy');
    const stored = (await deps.store.listTtlPolicies())[uid] ?? {};
    await deps.store.putTtlPolicy(uid, { ...stored, ...policy });
    return { status: 200, body: { indexUid: uid, ...(await deps.ttl.policy(uid)) } };
  });
  add('GET', '/_miroir/indexes/:uid/ttl-policy', async (ctx) => {
    if (deps.ttl === null) off('Document TTL', 'ttl.enabled');
    const uid = await existing(ctx.params.uid!);
    return { status: 200, body: { indexUid: uid, ...(await deps.ttl.policy(uid)) } };
  });
  add(
    'POST',
    '/_miroir/indexes/:uid/ttl-sweep',
    async (ctx) => {
      if (deps.ttl === null) off('Document TTL', 'ttl.enabled');
      const uid = await existing(ctx.params.uid!);
      return { status: 200, body: await deps.ttl.sweep(uid, undefined, true) };
    },
    'none',
  );
}
