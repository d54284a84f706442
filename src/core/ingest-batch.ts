// HOT PATH (inline for small payloads, in a worker above the pool threshold). One document batch from raw request
// bytes to per-node bodies: parse the payload (JSON, NDJSON or CSV), settle the primary key (the index's, the
// `primaryKey` parameter, or inferred from the first document), list the top-level fields it brings, and route it
// (routeBatch). Running it on the raw bytes means the main thread never builds the documents of a big batch: only
// bytes go to the worker and only the ready-to-send bodies come back.
import { inferPrimaryKey, resolveDocumentId } from './document-id.js';
import { MeiliError, type ErrorBody } from './errors.js';
import { documentSpans } from './json-spans.js';
import { parseDocuments, type PayloadFormat } from './payload.js';
import { assembleSpans, routeBatch, shardsForIds, versionSuffix, type RouteBatchOutput } from './route-batch.js';
import {
  EXPIRES_FIELD,
  expiryOf,
  invalidExpiryError,
  isReservedField,
  RESERVED_FIELDS,
  reservedFieldError,
} from './reserved.js';

export interface IngestBatchInput {
  body: Uint8Array;
  format: PayloadFormat;
  csvDelimiter: string;
  /** The primary key to route by (the index's, else the `primaryKey` parameter); null = infer from the batch. */
  primaryKey: string | null;
  shards: number;
  /** Per shard, the node ids that must receive its documents. */
  targets: ReadonlyArray<readonly string[]>;
  /** The Miroir task uid to stamp as `_miroir_version` (anti-entropy on), `reserve` for a placeholder
   * (route-batch.ts stampVersion), or null/absent. */
  version?: number | 'reserve' | null;
  /** TTL on: check `_miroir_expires_at` (and store RFC 3339 values as integer ms). */
  checkExpiry?: boolean;
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
  if (input.format !== 'csv' && input.body.byteLength > 0) {
    const bySpans = ingestSpans(input, input.format);
    if (bySpans !== null) return bySpans;
  }
  return ingestParsed(input);
}

/**
 * JSON and NDJSON: one document at a time from its byte span (parsed for its fields, key and id, then dropped), the
 * client's own bytes forwarded with `_miroir_shard` added — a batch never exists as a whole array of objects nor as
 * re-serialized text. Null when the payload is not plainly shaped or a document does not parse: the whole-payload
 * path then answers with Meilisearch's exact error.
 */
function ingestSpans(input: IngestBatchInput, format: 'json' | 'ndjson'): IngestBatchOutput | null {
  const bytes = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  const spans = documentSpans(bytes, format);
  if (spans === null) return null;
  const count = spans.length / 2;
  const out: IngestBatchOutput = {
    refused: null,
    count,
    primaryKey: input.primaryKey,
    keyError: null,
    fields: [],
    routed: null,
  };
  const seen = new Set<string>();
  const empty = new Uint8Array(count);
  const ids: string[] = [];
  let refusal: MeiliError | null = null; // the first reserved field, else the first bad id (routeBatch's order)
  let reservedSeen = false;
  let expiryError: MeiliError | null = null;
  for (let i = 0; i < count; i++) {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(bytes.toString('utf8', spans[2 * i], spans[2 * i + 1])) as Record<string, unknown>;
    } catch {
      return null;
    }
    let fields = 0;
    for (const k in doc) {
      fields++;
      if (!seen.has(k)) {
        seen.add(k);
        if (!isReservedField(k)) out.fields.push(k);
      }
    }
    empty[i] = fields === 0 ? 1 : 0;
    if (i === 0 && out.primaryKey === null) {
      try {
        out.primaryKey = inferPrimaryKey(doc);
      } catch (err) {
        out.keyError = asErrorBody(err);
      }
    }
    if (!reservedSeen) {
      const reserved = RESERVED_FIELDS.find((f) => Object.prototype.hasOwnProperty.call(doc, f));
      if (reserved !== undefined) {
        refusal = reservedFieldError(reserved, i);
        reservedSeen = true;
      }
    }
    if (out.primaryKey !== null && out.keyError === null && refusal === null) {
      try {
        ids.push(resolveDocumentId(doc, out.primaryKey));
      } catch (err) {
        if (!(err instanceof MeiliError)) throw err;
        refusal = err;
      }
    }
    if (
      input.checkExpiry === true &&
      expiryError === null &&
      Object.prototype.hasOwnProperty.call(doc, EXPIRES_FIELD)
    ) {
      const value = doc[EXPIRES_FIELD];
      if (expiryOf(value) === undefined) expiryError = invalidExpiryError(i, value);
      else if (typeof value === 'string') return null; // stored as integer ms: the documents are rewritten
    }
  }
  refusal ??= expiryError;
  if (out.keyError !== null) {
    out.primaryKey = null;
    return out;
  }
  if (out.primaryKey === null) return out;
  if (refusal !== null) {
    out.routed = { bodies: {}, nodeShards: {}, shardCounts: {}, error: refusal.toJSON() };
    return out;
  }
  const shardOf = shardsForIds(ids, input.shards);
  out.routed = {
    ...assembleSpans(bytes, spans, empty, shardOf, input.targets, versionSuffix(input.version)),
    error: null,
  };
  return out;
}

/** CSV, and JSON the span scan does not take: the whole payload parsed to documents, then routed. */
export function ingestParsed(input: IngestBatchInput): IngestBatchOutput {
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
  out.routed = routeBatch({
    docs,
    primaryKey: out.primaryKey,
    shards: input.shards,
    targets: input.targets,
    version: input.version,
    checkExpiry: input.checkExpiry,
  });
  return out;
}
