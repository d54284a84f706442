// The `canary_runner` config block (SPEC A18, Round 2 "Defaults": off until `enabled: true`), imported by the one
// config schema (src/main/config/schema.ts). Off, no canary route is served and searches are not sampled.
import { z } from 'zod';

const positiveInt = z.number().int().min(1);

export const canaryRunnerSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Serve /_miroir/canaries and run the stored canaries (each on one live pod, Mode A).'),
    max_concurrent_canaries: positiveInt
      .max(1000)
      .default(10)
      .describe('Canary searches one pod runs at once; due canaries beyond this wait for the next free slot.'),
    run_history_per_canary: positiveInt
      .max(10000)
      .default(100)
      .describe('Runs kept per canary in the store (status, and the window of max_p95_ms).'),
    capture_recent_queries: positiveInt
      .max(10000)
      .default(200)
      .describe('Recent distinct searches per index this pod remembers for POST /_miroir/canaries/capture.'),
  })
  .prefault({});
