// Tenant tokens read and verified step by step as Meilisearch does (jsonwebtoken 10 + its own claim checks), so each
// failure gets Meilisearch's exact text: "Could not decode tenant token, <reason>.", "Tenant token expired. …".
// Reading (structure, header, claims) needs no key; verifying needs the signing key's value.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MeiliError } from '../errors.js';
import {
  afterWhitespace,
  errorAfter,
  invalidTypeAt,
  parseJsonBytes,
  SerdeJsonError,
  unexpected,
  type JsonNode,
} from './serde-json.js';
import { parseUuid } from './uuid.js';

/** Tenant-token search rules: index pattern → null or `{filter}`. */
export type SearchRules = Record<string, { filter?: unknown } | null>;

export interface TenantClaims {
  /** The signing key's uid, canonical (lower-case hyphenated). */
  apiKeyUid: string;
  searchRules: SearchRules;
  exp: number | null;
  alg: 'HS256' | 'HS384' | 'HS512' | string;
  hasAudience: boolean;
}

const ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'ES256',
  'ES384',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
];
const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const HEADER_STRING_FIELDS = new Set(['typ', 'cty', 'jku', 'kid', 'x5u', 'x5t', 'x5t#S256', 'url', 'nonce']);
const HEADER_OTHER_FIELDS = new Set(['jwk', 'x5c', 'crit', 'enc', 'zip']);

export function couldNotDecode(reason: string): MeiliError {
  return new MeiliError('invalid_api_key', `Could not decode tenant token, ${reason}.`);
}

// ------------------------------------------------------------------------------------------------------ base64

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d;

/** URL-safe, unpadded base64 decoding with the `base64` 0.22 crate's errors (as jsonwebtoken words them). */
export function decodeBase64Url(part: string): Buffer {
  const b = Buffer.from(part, 'latin1');
  const fail = (msg: string): never => {
    throw couldNotDecode(`Base64 error: ${msg}`);
  };
  const rem = b.length % 4;
  if (rem === 1) {
    const last = b[b.length - 1]!;
    if (last !== PAD && DECODE[last] === -1) fail(`Invalid symbol ${last}, offset ${b.length - 1}.`);
  }
  const quads = Math.max(0, b.length - rem - (rem === 0 ? 4 : 0));
  for (let i = 0; i < quads; i++) if (DECODE[b[i]!] === -1) fail(`Invalid symbol ${b[i]}, offset ${i}.`);
  let morsels = 0;
  let padding = 0;
  let firstPadding = 0;
  let lastSymbol = 0;
  const values: number[] = [];
  for (let k = quads; k < b.length; k++) {
    const c = b[k]!;
    const leftover = k - quads;
    if (c === PAD) {
      if (leftover < 2) fail(`Invalid symbol ${c}, offset ${k}.`);
      if (padding === 0) firstPadding = leftover;
      padding++;
      continue;
    }
    if (padding > 0) fail(`Invalid symbol ${PAD}, offset ${quads + firstPadding}.`);
    lastSymbol = c;
    if (DECODE[c] === -1) fail(`Invalid symbol ${c}, offset ${k}.`);
    values.push(DECODE[c]!);
    morsels++;
  }
  if (b.length > 0 && morsels < 2) fail(`Invalid input length: ${quads + morsels}`);
  if (padding > 0) fail('Invalid padding');
  const bytes = Math.floor((morsels * 6) / 8);
  let num = 0;
  values.forEach((v, i) => (num += v * 2 ** (26 - 6 * i)));
  const keptBits = bytes * 8;
  if (num % 2 ** (32 - keptBits) !== 0) fail(`Invalid last symbol ${lastSymbol}, offset ${quads + morsels - 1}.`);
  return Buffer.from(part, 'base64url');
}

// ------------------------------------------------------------------------------------------------ JSON structs

function json(bytes: Buffer): JsonNode {
  try {
    return parseJsonBytes(bytes);
  } catch (err) {
    if (err instanceof SerdeJsonError) throw couldNotDecode(`JSON error: ${err.message}`);
    throw err;
  }
}

function jsonError(bytes: Buffer, lastRead: number, reason: string): MeiliError {
  return couldNotDecode(`JSON error: ${errorAfter(bytes, lastRead, reason).message}`);
}

/** Where serde reports an error raised by a struct visitor: after its attempt to read the closing `}`. */
function endOfMap(bytes: Buffer, lastRead: number): number {
  const j = afterWhitespace(bytes, lastRead);
  return bytes[j + 1] === 0x7d ? j + 1 : j;
}

function topLevelInvalidType(bytes: Buffer, node: JsonNode, expected: string): MeiliError {
  return jsonError(bytes, invalidTypeAt(bytes, node), `invalid type: ${unexpected(node)}, expected ${expected}`);
}

/** jsonwebtoken's `Header` (with its flattened string `extras`): answers `alg`. */
function readHeader(bytes: Buffer): string {
  const node = json(bytes);
  if (node.kind !== 'object') throw topLevelInvalidType(bytes, node, 'a map');
  const seen = new Set<string>();
  let alg: string | null = null;
  for (const { key, keyEnd, value } of node.entries) {
    if (key === 'alg' || HEADER_STRING_FIELDS.has(key) || HEADER_OTHER_FIELDS.has(key)) {
      if (seen.has(key)) throw jsonError(bytes, afterWhitespace(bytes, keyEnd), `duplicate field \`${key}\``);
      seen.add(key);
    }
    if (key === 'alg') {
      if (value.kind !== 'string') throw jsonError(bytes, value.start, 'expected value');
      if (!ALGORITHMS.includes(value.value)) {
        throw jsonError(
          bytes,
          value.end,
          `unknown variant \`${value.value}\`, expected one of ${ALGORITHMS.map((a) => `\`${a}\``).join(', ')}`,
        );
      }
      alg = value.value;
    } else if (HEADER_STRING_FIELDS.has(key)) {
      if (value.kind !== 'string' && value.kind !== 'null') throw topLevelInvalidType(bytes, value, 'a string');
    }
  }
  if (alg === null) throw jsonError(bytes, node.end, 'missing field `alg`');
  for (const { key, value } of node.entries) {
    if (key === 'alg' || HEADER_STRING_FIELDS.has(key) || HEADER_OTHER_FIELDS.has(key)) continue;
    if (value.kind !== 'string')
      throw jsonError(bytes, node.end, `invalid type: ${unexpected(value)}, expected a string`);
  }
  return alg;
}

/** Meilisearch's `SearchRules` (untagged: a set of index patterns, or a map of pattern → null | {filter} | [filter]). */
function readSearchRules(node: JsonNode): SearchRules | null {
  const out: SearchRules = Object.create(null) as SearchRules;
  if (node.kind === 'array') {
    for (const item of node.items) {
      if (item.kind !== 'string') return null;
      out[item.value] = null;
    }
    return out;
  }
  if (node.kind !== 'object') return null;
  for (const { key, value } of node.entries) {
    if (value.kind === 'null') out[key] = null;
    else if (value.kind === 'object') {
      const filters = value.entries.filter((e) => e.key === 'filter');
      if (filters.length > 1) return null;
      const f = filters[0]?.value;
      out[key] = f === undefined || f.kind === 'null' ? {} : { filter: toPlain(f) };
    } else if (value.kind === 'array') {
      if (value.items.length !== 1) return null;
      const f = value.items[0]!;
      out[key] = f.kind === 'null' ? {} : { filter: toPlain(f) };
    } else return null;
  }
  return out;
}

function toPlain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, toPlain(e.value)]));
    case 'array':
      return node.items.map(toPlain);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

/** Meilisearch's `Claims { searchRules, exp: Option<i64>, apiKeyUid: Uuid }` (other claims ignored). */
function readClaims(bytes: Buffer): Omit<TenantClaims, 'alg'> {
  const node = json(bytes);
  if (node.kind !== 'object') throw topLevelInvalidType(bytes, node, 'struct Claims');
  const seen = new Set<string>();
  let rules: SearchRules | null = null;
  let exp: number | null = null;
  let uid: string | null = null;
  let hasAudience = false;
  for (const { key, keyEnd, value } of node.entries) {
    if (key === 'aud')
      hasAudience =
        value.kind === 'string' || (value.kind === 'array' && value.items.every((i) => i.kind === 'string'));
    if (key !== 'searchRules' && key !== 'exp' && key !== 'apiKeyUid') continue;
    if (seen.has(key)) throw jsonError(bytes, afterWhitespace(bytes, keyEnd), `duplicate field \`${key}\``);
    seen.add(key);
    if (key === 'searchRules') {
      rules = readSearchRules(value);
      if (rules === null)
        throw jsonError(
          bytes,
          endOfMap(bytes, value.end),
          'data did not match any variant of untagged enum SearchRules',
        );
    } else if (key === 'exp') {
      if (value.kind === 'null') exp = null;
      else if (
        value.kind === 'number' &&
        /^-?\d+$/.test(value.raw) &&
        BigInt(value.raw) >= -9223372036854775808n &&
        BigInt(value.raw) <= 9223372036854775807n
      ) {
        exp = Number(value.raw);
      } else if (value.kind === 'number' && /^\d+$/.test(value.raw) && BigInt(value.raw) <= 18446744073709551615n) {
        throw jsonError(bytes, value.end, `invalid value: ${unexpected(value)}, expected i64`);
      } else throw topLevelInvalidType(bytes, value, 'i64');
    } else {
      if (value.kind !== 'string') throw topLevelInvalidType(bytes, value, 'a formatted UUID string');
      const parsed = parseUuid(value.value);
      if ('error' in parsed) throw jsonError(bytes, value.end, `UUID parsing failed: ${parsed.error}`);
      uid = parsed.uuid;
    }
  }
  if (rules === null) throw jsonError(bytes, node.end, 'missing field `searchRules`');
  if (uid === null) throw jsonError(bytes, node.end, 'missing field `apiKeyUid`');
  return { apiKeyUid: uid, searchRules: rules, exp, hasAudience };
}

// ------------------------------------------------------------------------------------------------- the steps

/** A token split as jsonwebtoken splits it (from the right), or null when it has fewer than three parts. */
function split(token: string): { header: string; payload: string; signature: string; message: string } | null {
  const last = token.lastIndexOf('.');
  if (last < 0) return null;
  const message = token.slice(0, last);
  const second = message.lastIndexOf('.');
  if (second < 0) return null;
  return {
    header: message.slice(0, second),
    payload: message.slice(second + 1),
    signature: token.slice(last + 1),
    message,
  };
}

/**
 * Reads a bearer token as a tenant token without verifying it (jsonwebtoken's `insecure_decode`): null when it is
 * not one at all (Meilisearch then tries it as an API key), the claims, or Meilisearch's "Could not decode" error.
 */
export function readTenantToken(token: string): TenantClaims | null {
  const parts = split(token);
  if (parts === null) return null;
  const alg = readHeader(decodeBase64Url(parts.header));
  return { ...readClaims(decodeBase64Url(parts.payload)), alg };
}

/** Verifies a read token with its key's value: algorithm, signature, audience, then expiry. */
export function verifyTenantToken(token: string, claims: TenantClaims, keyValue: string, nowMs: number): void {
  const hash = HMAC[claims.alg];
  if (hash === undefined) throw couldNotDecode('InvalidAlgorithm');
  const parts = split(token)!;
  const signature = decodeBase64Url(parts.signature);
  const expected = createHmac(hash, keyValue).update(parts.message).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
    throw couldNotDecode('InvalidSignature');
  if (claims.hasAudience) throw couldNotDecode('InvalidAudience');
  if (claims.exp !== null) {
    const now = Math.floor(nowMs / 1000);
    if (now > claims.exp)
      throw new MeiliError(
        'invalid_api_key',
        `Tenant token expired. Was valid up to \`${claims.exp}\` and we're now \`${now}\`.`,
      );
  }
}
