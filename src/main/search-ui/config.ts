// The `search_ui` config block (SPEC A21, Round 2 "Defaults": off until `enabled: true`), imported by the one
// config schema (src/main/config/schema.ts). Secrets are never here: the JWT secret and the shared key come from
// the environment variables these keys name.
import { z } from 'zod';
import { parseRate } from '../../core/search-ui/rate.js';

const positiveInt = z.number().int().min(1);
const rate = z
  .string()
  .refine((v) => parseRate(v) !== null, { message: 'must look like N/second, N/minute, N/hour or N/day with N ≥ 1' });
const attribute = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an attribute name (letters, digits, _ . -)');

export const searchUiSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Serve the search page at /ui/search/{index} and its session API.'),
    allowed_origins: z
      .array(z.string().min(1))
      .default(['*'])
      .describe(
        'Origins whose pages may call the session, beacon and search routes with a session token (CORS); "*" allows any.',
      ),
    scoped_key_max_age_days: positiveInt
      .default(60)
      .describe('Lifetime of the per-index ["search"] API key Miroir searches with for the page.'),
    scoped_key_rotate_before_expiry_days: positiveInt
      .default(30)
      .describe('Rotate the scoped key this many days before it expires.'),
    scoped_key_rotation_drain_s: z
      .number()
      .int()
      .min(0)
      .default(120)
      .describe('After a rotation, the old key lives at least this long (and until every live pod uses the new one).'),
    auth: z
      .strictObject({
        mode: z
          .enum(['public', 'shared_key', 'oauth_proxy'])
          .default('public')
          .describe(
            'public: anyone (IP-limited); shared_key: X-Search-UI-Key; oauth_proxy: X-Forwarded-User/-Groups from a trusted proxy.',
          ),
        session_ttl_s: positiveInt
          .max(86400)
          .default(900)
          .describe('Lifetime of a page session token (the page renews it).'),
        session_rate_limit: rate.default('10/minute').describe('Sessions one client IP may open.'),
        jwt_secret_env: z
          .string()
          .min(1)
          .default('SEARCH_UI_JWT_SECRET')
          .describe(
            'Env var holding the session-signing secret (64 random bytes; <name>_PREVIOUS verifies during a rotation).',
          ),
        shared_key_env: z
          .string()
          .min(1)
          .default('SEARCH_UI_SHARED_KEY')
          .describe('Env var holding the key pages send as X-Search-UI-Key (mode shared_key).'),
        oauth_proxy: z
          .strictObject({
            user_filter_attribute: attribute
              .nullable()
              .default(null)
              .describe('Field that must equal X-Forwarded-User (ANDed into every search).'),
            groups_filter_attribute: attribute
              .nullable()
              .default(null)
              .describe('Field that must be one of X-Forwarded-Groups (ANDed into every search).'),
          })
          .prefault({}),
      })
      .prefault({}),
    rate_limit: z
      .strictObject({
        per_ip: rate.default('60/minute').describe('Page loads and searches one client IP may make.'),
        backend: z
          .enum(['redis', 'memory'])
          .default('redis')
          .describe(
            'redis: counted in the store for every pod (needs task_store.backend redis, else memory is used); memory: per pod.',
          ),
        redis_ttl_s: positiveInt
          .default(60)
          .describe("How long an idle client's counters are kept (never shorter than their window)."),
      })
      .prefault({}),
    analytics: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Log each page query (text, hit count) and click as a `search_ui` log line.'),
      })
      .prefault({}),
  })
  .refine((v) => v.scoped_key_rotate_before_expiry_days < v.scoped_key_max_age_days, {
    message: 'scoped_key_rotate_before_expiry_days must be below scoped_key_max_age_days',
    path: ['scoped_key_rotate_before_expiry_days'],
  })
  .prefault({});

export type SearchUiConfig = z.infer<typeof searchUiSchema>;
