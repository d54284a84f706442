// The `shadow` config block (SPEC A16, Round 2 "Defaults": off until `enabled: true`), imported by the one config
// schema (src/main/config/schema.ts). Off, no read is wrapped or sampled. Target keys come from the environment.
import { z } from 'zod';

const positiveInt = z.number().int().min(1);

export const SHADOW_OPERATIONS = ['search', 'multi_search', 'documents'] as const;
export type ShadowOperation = (typeof SHADOW_OPERATIONS)[number];

export const shadowTargetSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a target name is 1 to 64 letters, digits, _ . and -')
    .describe('Label of the target in diffs and metrics.'),
  url: z.url({ protocol: /^https?$/ }).describe('Base URL of another Miroir, a Meilisearch or any compatible server.'),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .nullable()
    .default('SHADOW_API_KEY')
    .describe('Environment variable holding the key sent to the target as a Bearer token (null or unset: none).'),
  sample_rate: z.number().min(0).max(1).default(0.05).describe('Fraction of eligible reads teed to this target.'),
  operations: z
    .array(z.enum(SHADOW_OPERATIONS))
    .min(1)
    .default([...SHADOW_OPERATIONS])
    .describe('Reads teed: search (POST/GET search), multi_search, documents (GET one document).'),
  timeout_ms: positiveInt.max(600000).default(5000).describe('Deadline of one shadow request (later: an error).'),
  max_queue: positiveInt
    .max(100000)
    .default(100)
    .describe('Teed reads waiting for this target at most; more are shed (miroir_shadow_shed_total).'),
  concurrency: positiveInt.max(256).default(4).describe('Shadow requests in flight to this target at once.'),
});

export const shadowSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Tee sampled reads to the targets after the client has its answer, and keep diffs.'),
    targets: z.array(shadowTargetSchema).default([]).describe('Where reads are teed (never writes).'),
    diff_buffer_size: positiveInt
      .max(1000000)
      .default(10000)
      .describe('Diffs kept in memory (a ring buffer: the oldest go first) for GET /_miroir/shadow/diff.'),
    latency_threshold_ms: positiveInt
      .default(250)
      .describe('Same hits but the target slower (or faster) by more than this: a `latency` diff.'),
  })
  .superRefine((v, ctx) => {
    if (v.enabled && v.targets.length === 0)
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'shadow.enabled needs at least one target' });
    const seen = new Set<string>();
    v.targets.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}"` });
      seen.add(t.name);
    });
  })
  .prefault({});

export type ShadowConfig = z.infer<typeof shadowSchema>;
export type ShadowTargetConfig = z.infer<typeof shadowTargetSchema>;
