// Idempotency keys (SPEC A10, Round 2 "Idempotency"): the key's syntax and the request fingerprint — method, path,
// query and the body (JSON canonicalized; NDJSON, CSV and other bytes as sent). Pure.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { MeiliError } from './errors.js';

const KEY_RE = /^[\x20-\x7e]{1,255}$/;

/** JSON bodies up to this size are canonicalized; larger ones are fingerprinted by their bytes (parsing a 100 MB
 * batch again only to hash it would cost more than the write; a retry sends the same bytes). */
export const CANONICAL_JSON_MAX_BYTES = 1024 * 1024;

/** The key of an `Idempotency-Key` header, or a 400 miroir_invalid_idempotency_key. */
export function parseIdempotencyKey(raw: string | string[]): string {
  const key = Array.isArray(raw) ? null : raw;
  if (key === null || !KEY_RE.test(key))
    throw new MeiliError(
      'miroir_invalid_idempotency_key',
      '`Idempotency-Key` must be 1 to 255 printable ASCII characters, sent once.',
    );
  return key;
}

export interface FingerprintInput {
  method: string;
  path: string;
  /** The query string as sent (without `?`). */
  query: string;
  /** The media type (lower case, no parameters), or null. */
  contentType: string | null;
  body: Buffer | null;
  /** The body already parsed (JSON routes), or undefined to parse it here when it is JSON. */
  json?: unknown;
}

/** sha256 hex of the request as the idempotency contract compares it. */
export function requestFingerprint(r: FingerprintInput): string {
  const h = createHash('sha256');
  h.update(`${r.method}\n${r.path}\n${r.query}\n${r.contentType ?? ''}\n`);
  let canonical: string | null = null;
  if (r.json !== undefined) canonical = canonicalJson(r.json);
  else if (r.body === null || r.body.length === 0) return h.digest('hex');
  else if (r.contentType === 'application/json' && r.body.length <= CANONICAL_JSON_MAX_BYTES) {
    try {
      canonical = canonicalJson(JSON.parse(r.body.toString('utf8')));
    } catch {
      canonical = null;
    }
  }
  if (canonical !== null) h.update('json\n').update(canonical);
  else if (r.body !== null) h.update('bytes\n').update(r.body);
  return h.digest('hex');
}
