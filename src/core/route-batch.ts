// HOT PATH (inline below the pool threshold, in a worker above it). Routes one batch of documents: resolve and
// validate every id (Meilisearch's errors), refuse reserved fields, compute every shard in one batched hash call,
// inject `_miroir_shard` (and `_miroir_version`, the writing task's uid, when anti-entropy is on), and group the
// documents per target node as ready-to-send JSON bodies. With TTL on, `_miroir_expires_at` is checked and an RFC 3339
// value stored as its integer ms (so nodes can filter on it).
import { resolveDocumentId } from './document-id.js';
import { MeiliError, type ErrorBody } from './errors.js';
import { hashBackend, shardForKey } from './hash.js';
import { checkReservedFields, EXPIRES_FIELD, expiryOf, invalidExpiryError, VERSION_FIELD } from './reserved.js';
import { SHARD_FIELD } from './shard-filter.js';

export interface RouteBatchInput {
  docs: Array<Record<string, unknown>>;
  primaryKey: string;
  shards: number;
  /** Per shard, the node ids that must receive its documents (every group's write targets). */
  targets: ReadonlyArray<readonly string[]>;
  /** The Miroir task uid stamped as `_miroir_version` (anti-entropy on), or null/absent; `reserve` leaves room
   * for it (VERSION_PLACEHOLDER), filled in later by stampVersion once the task uid is known. */
  version?: number | 'reserve' | null;
  /** TTL on: check `_miroir_expires_at` and store it as integer ms. */
  checkExpiry?: boolean;
}

export interface RouteBatchOutput {
  /** node id → JSON array body of that node's documents (each with `_miroir_shard`), as bytes ready to send. */
  bodies: Record<string, Buffer>;
  /** node id → shard ids present in its body. */
  nodeShards: Record<string, number[]>;
  /** shard id → number of documents. */
  shardCounts: Record<number, number>;
  /** Set when the batch is refused as a whole (a failed task, nothing sent). */
  error: ErrorBody | null;
}

/**
 * Shard ids of many canonical document ids in one batched hash call. Valid ids are ASCII ([A-Za-z0-9_-] or
 * decimal digits), so one latin1 encode of the joined ids gives the packed bytes and string lengths the offsets.
 */
export function shardsForIds(ids: readonly string[], shards: number): Uint32Array {
  const offsets = new Uint32Array(ids.length + 1);
  let total = 0;
  for (let i = 0; i < ids.length; i++) {
    offsets[i] = total;
    total += ids[i]!.length;
  }
  offsets[ids.length] = total;
  const packed = Buffer.from(ids.join(''), 'latin1');
  return hashBackend().shardsForPackedKeys(packed, offsets, shards);
}

const SHARD_MEMBER_PREFIX = `${JSON.stringify(SHARD_FIELD)}:`;

function shardMember(shard: number): string {
  return SHARD_MEMBER_PREFIX + shard;
}

const VERSION_MEMBER = `,${JSON.stringify(VERSION_FIELD)}:`;
/** Room for a version: 15 spaces (JSON whitespace) and a 0 — 16 bytes any task uid fits in, right-aligned. */
const VERSION_ROOM = 16;
export const VERSION_PLACEHOLDER = `${VERSION_MEMBER}${' '.repeat(VERSION_ROOM - 1)}0`;
const PLACEHOLDER_BYTES = Buffer.from(VERSION_PLACEHOLDER, 'latin1');

/** What follows the shard member in every document: `,"_miroir_version":N` when stamping, else nothing. */
export function versionSuffix(version: number | 'reserve' | null | undefined): string {
  if (version === null || version === undefined) return '';
  return version === 'reserve' ? VERSION_PLACEHOLDER : `${VERSION_MEMBER}${version}`;
}

/**
 * Writes the task uid into every version placeholder of a routed body, in place (right-aligned, spaces before it):
 * routing can run before the task uid exists, without routing the batch again. The placeholder's quoted member name
 * cannot occur inside a JSON string (its quotes would be escaped), and clients cannot send the top-level field.
 */
export function stampVersion(body: Buffer, version: number): void {
  const digits = Buffer.from(String(version).padStart(VERSION_ROOM, ' '), 'latin1');
  if (digits.length > VERSION_ROOM) throw new RangeError(`version ${version} does not fit the placeholder`);
  const at = PLACEHOLDER_BYTES.length - VERSION_ROOM;
  for (let i = body.indexOf(PLACEHOLDER_BYTES); i !== -1; i = body.indexOf(PLACEHOLDER_BYTES, i + at + VERSION_ROOM))
    digits.copy(body, i + at);
}

/** Checks every expiry and turns RFC 3339 values into integer ms in place; throws for the first invalid one. */
export function normalizeExpiries(docs: Array<Record<string, unknown>>): void {
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i]!;
    if (!Object.prototype.hasOwnProperty.call(d, EXPIRES_FIELD)) continue;
    const ms = expiryOf(d[EXPIRES_FIELD]);
    if (ms === undefined) throw invalidExpiryError(i, d[EXPIRES_FIELD]);
    if (typeof d[EXPIRES_FIELD] === 'string') d[EXPIRES_FIELD] = ms;
  }
}

export function routeBatch(input: RouteBatchInput): RouteBatchOutput {
  const out: RouteBatchOutput = { bodies: {}, nodeShards: {}, shardCounts: {}, error: null };
  let ids: string[];
  try {
    checkReservedFields(input.docs);
    ids = input.docs.map((d) => resolveDocumentId(d, input.primaryKey));
    if (input.checkExpiry === true) normalizeExpiries(input.docs);
  } catch (err) {
    if (err instanceof MeiliError) {
      out.error = err.toJSON();
      return out;
    }
    throw err;
  }
  const shardOf = shardsForIds(ids, input.shards);
  const suffix = versionSuffix(input.version);
  const parts = new Map<string, string[]>();
  const nodeShards = new Map<string, Set<number>>();
  for (let i = 0; i < input.docs.length; i++) {
    const shard = shardOf[i]!;
    out.shardCounts[shard] = (out.shardCounts[shard] ?? 0) + 1;
    // Stringify as is and append the shard field textually: no copy of the document (reserved fields were refused,
    // so the key cannot repeat). `{}` has no field to put a comma after.
    const plain = JSON.stringify(input.docs[i]);
    const member = shardMember(shard) + suffix;
    const json = plain.length === 2 ? `{${member}}` : `${plain.slice(0, -1)},${member}}`;
    for (const node of input.targets[shard] ?? []) {
      let list = parts.get(node);
      if (list === undefined) {
        parts.set(node, (list = []));
        nodeShards.set(node, new Set());
      }
      list.push(json);
      nodeShards.get(node)!.add(shard);
    }
  }
  for (const [node, list] of parts) {
    // Bytes now: the joined text is garbage at once, and a worker can hand the bytes back without a copy.
    out.bodies[node] = Buffer.from(`[${list.join(',')}]`);
    out.nodeShards[node] = [...nodeShards.get(node)!].sort((a, b) => a - b);
  }
  return out;
}

/**
 * Per-node bodies from documents given as byte spans of `bytes` (core/json-spans.ts): each document's bytes as the
 * client sent them, `_miroir_shard` added before its closing brace (`empty[i]`: document i has no field, so no
 * comma). Every body is sized first and written once: no per-document strings, no joined copy.
 */
export function assembleSpans(
  bytes: Uint8Array,
  spans: Uint32Array,
  empty: Uint8Array,
  shardOf: Uint32Array,
  targets: ReadonlyArray<readonly string[]>,
  suffix = '',
): Pick<RouteBatchOutput, 'bodies' | 'nodeShards' | 'shardCounts'> {
  const count = shardOf.length;
  const sizes = new Map<string, number>();
  const nodeShards = new Map<string, Set<number>>();
  const shardCounts: Record<number, number> = {};
  const members: string[] = [];
  for (let s = 0; s < targets.length; s++) members.push(shardMember(s) + suffix);
  for (let i = 0; i < count; i++) {
    const shard = shardOf[i]!;
    shardCounts[shard] = (shardCounts[shard] ?? 0) + 1;
    // The document without its `}`, a comma unless empty, the member, `}`, and a separating comma.
    const size = spans[2 * i + 1]! - spans[2 * i]! - 1 + (empty[i] ? 0 : 1) + members[shard]!.length + 2;
    for (const node of targets[shard] ?? []) {
      sizes.set(node, (sizes.get(node) ?? 1) + size);
      let set = nodeShards.get(node);
      if (set === undefined) nodeShards.set(node, (set = new Set()));
      set.add(shard);
    }
  }
  const bodies: Record<string, Buffer> = {};
  const at = new Map<string, number>();
  for (const [node, size] of sizes) {
    // `[` + documents each followed by `,` — the last comma becomes `]`: exactly `size` bytes.
    const buf = Buffer.allocUnsafeSlow(size);
    buf[0] = 0x5b;
    bodies[node] = buf;
    at.set(node, 1);
  }
  for (let i = 0; i < count; i++) {
    const shard = shardOf[i]!;
    const start = spans[2 * i]!;
    const end = spans[2 * i + 1]! - 1;
    for (const node of targets[shard] ?? []) {
      const buf = bodies[node]!;
      let pos = at.get(node)!;
      buf.set(bytes.subarray(start, end), pos);
      pos += end - start;
      if (!empty[i]) buf[pos++] = 0x2c;
      pos += buf.write(members[shard]!, pos, 'latin1');
      buf[pos++] = 0x7d;
      buf[pos++] = 0x2c;
      at.set(node, pos);
    }
  }
  for (const buf of Object.values(bodies)) buf[buf.length - 1] = 0x5d;
  const shardsOf: Record<string, number[]> = {};
  for (const [node, set] of nodeShards) shardsOf[node] = [...set].sort((a, b) => a - b);
  return { bodies, nodeShards: shardsOf, shardCounts };
}

/** Whether every character is ASCII (and not NUL), so the ids pack into latin1 bytes one to one. */
function plainAscii(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

/** Shard ids of arbitrary ids (e.g. a delete-batch, which may name ids no document can have): batched when ASCII. */
export function shardsForAnyIds(ids: readonly string[], shards: number): Uint32Array {
  if (ids.every(plainAscii)) return shardsForIds(ids, shards);
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = shardForKey(ids[i]!, shards);
  return out;
}
