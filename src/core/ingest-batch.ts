// HOT PATH (inline for small payloads, in a worker above the pool threshold). One document batch from raw request
// bytes to per-node bodies: parse the payload (JSON, NDJSON or CSV), settle the primary key (the index's, the
// `primaryKey` parameter, or inferred from the first document), list the top-level fields it brings, and route it
// (routeBatch). Running it on the raw bytes means the main thread never builds the documents of a big batch: only
// bytes go to the worker and only the ready-to-send bodies come back.
import { inferPrimaryKey } from './document-id.js';
import { MeiliError, type ErrorBody } from './errors.js';
import { parseDocuments, type PayloadFormat } from './payload.js';
import { routeBatch, type RouteBatchOutput } from './route-batch.js';
import { isReservedField } from './reserved.js';

export interface IngestBatchInput {
  body: Uint8Array;
  format: PayloadFormat;
  csvDelimiter: string;
  /** The primary key to route by (the index's, else the `primaryKey` parameter); null = infer from the batch. */
  primaryKey: string | null;
  shards: number;
  /** Per shard, the node ids that must receive its documents. */
  targets: ReadonlyArray<readonly string[]>;
}

export interface IngestBatchOutput {
  /** The payload itself is unusable (missing or malformed): an error reply, no task. */
  refused: ErrorBody | null;
  /** Number of documents in the payload. */
  count: number;
  /** The primary key used (given or inferred), or null when the batch is empty. */
  primaryKey: string | null;
  /** Inferring the primary key failed: a failed task. */
  keyError: ErrorBody | null;
  /** Top-level fields of the documents in first-seen order (`_miroir_*` excluded). */
  fields: string[];
  /** The routed batch, or null when there was nothing to route (no key, or refused). */
  routed: RouteBatchOutput | null;
}

function asErrorBody(err: unknown): ErrorBody {
  if (err instanceof MeiliError) return err.toJSON();
  throw err;
}

export function ingestBatch(input: IngestBatchInput): IngestBatchOutput {
  const out: IngestBatchOutput = {
    refused: null,
    count: 0,
    primaryKey: input.primaryKey,
    keyError: null,
    fields: [],
    routed: null,
  };
  let docs: Array<Record<string, unknown>>;
  try {
    docs = parseDocuments(
      Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength),
      input.format,
      input.csvDelimiter,
    );
  } catch (err) {
    out.refused = asErrorBody(err);
    return out;
  }
  out.count = docs.length;
  const seen = new Set<string>();
  for (const d of docs) {
    for (const k in d) {
      if (!seen.has(k)) {
        seen.add(k);
        if (!isReservedField(k)) out.fields.push(k);
      }
    }
  }
  if (out.primaryKey === null && docs.length > 0) {
    try {
      out.primaryKey = inferPrimaryKey(docs[0]);
    } catch (err) {
      out.keyError = asErrorBody(err);
      return out;
    }
  }
  if (out.primaryKey === null) return out;
  out.routed = routeBatch({ docs, primaryKey: out.primaryKey, shards: input.shards, targets: input.targets });
  return out;
}
