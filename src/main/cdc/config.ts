// The `cdc` config block (SPEC A13, Round 2 decisions "CDC"; off until `enabled: true`), imported by the one config
// schema (src/main/config/schema.ts). Off, no change is logged, no sink runs and `/_miroir/changes` is not served.
import { z } from 'zod';

const positiveInt = z.number().int().min(1);

const webhookSchema = z.strictObject({
  url: z.url().describe('Where batches of events are POSTed (a JSON array per request).'),
  secret_env: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Environment variable holding the HMAC secret; each request then carries `X-Miroir-Signature: sha256=<hex HMAC-SHA256 of the body>`.',
    ),
  batch_size: positiveInt.max(10000).default(100).describe('Events per request at most.'),
  batch_flush_ms: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(1000)
    .describe('How long a batch smaller than batch_size waits for more events before it is sent.'),
  include_body: z.boolean().default(false).describe('Send the documents of document writes (`document`).'),
  timeout_ms: positiveInt.default(10_000).describe('One request answers within this or is retried.'),
});

const natsSchema = z.strictObject({
  url: z.string().min(1).describe('NATS server(s), e.g. `nats://127.0.0.1:4222` (comma-separated for several).'),
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('MIROIR_CDC')
    .describe('JetStream stream the events are published to (created with subject `{subject_prefix}.>` if absent).'),
  subject_prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
    .default('miroir.cdc')
    .describe('Each event goes to subject `{subject_prefix}.{index}`.'),
  batch_size: positiveInt.max(10000).default(100).describe('Events published before the cursor is saved.'),
  include_body: z.boolean().default(false).describe('Publish the documents of document writes (`document`).'),
});

export const cdcSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Change data capture (SPEC A13): every accepted write is appended to a durable change log in the store before its 202, served by `GET /_miroir/changes` and delivered to the sinks at least once.',
      ),
    emit_ttl_deletes: z.boolean().default(false).describe("Log the TTL sweeper's deletes (origin `ttl_expire`)."),
    emit_internal_writes: z
      .boolean()
      .default(false)
      .describe('Log internal writes too (shard moves, anti-entropy repairs, reshard backfill, rollover).'),
    retention: z
      .strictObject({
        max_events: positiveInt.default(1_000_000).describe('Events kept at most (the oldest are trimmed first).'),
        max_age_s: positiveInt.default(7 * 86400).describe('Events older than this are trimmed.'),
        trim_interval_s: positiveInt.default(60).describe('Time between retention trims.'),
      })
      .prefault({}),
    sinks: z
      .strictObject({
        webhook: webhookSchema.optional(),
        nats: natsSchema.optional(),
      })
      .prefault({}),
  })
  .prefault({});

export type CdcConfig = z.infer<typeof cdcSchema>;
