// Canonical JSON (object keys sorted, no whitespace, JSON.stringify numbers) and the hashes built on it:
// sha256 for settings (two-phase verification) and XXH3-64 for document content (fingerprints).
import { createHash } from 'node:crypto';
import { xxh3_64 } from './hash.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function settingsHash(settings: unknown): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex');
}

export function documentHash(doc: unknown): bigint {
  return xxh3_64(Buffer.from(canonicalJson(doc)));
}
