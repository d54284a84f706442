// HOT PATH (inline below the pool threshold, in a worker above it). Routes one batch of documents: resolve and
// validate every id (Meilisearch's errors), refuse reserved fields, compute every shard in one batched hash call,
// inject `_miroir_shard`, and group the documents per target node as ready-to-send JSON bodies.
import { resolveDocumentId } from './document-id.js';
import { MeiliError, type ErrorBody } from './errors.js';
import { hashBackend, shardForKey } from './hash.js';
import { checkReservedFields } from './reserved.js';
import { SHARD_FIELD } from './shard-filter.js';

export interface RouteBatchInput {
  docs: Array<Record<string, unknown>>;
  primaryKey: string;
  shards: number;
  /** Per shard, the node ids that must receive its documents (every group's write targets). */
  targets: ReadonlyArray<readonly string[]>;
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

export function routeBatch(input: RouteBatchInput): RouteBatchOutput {
  const out: RouteBatchOutput = { bodies: {}, nodeShards: {}, shardCounts: {}, error: null };
  let ids: string[];
  try {
    checkReservedFields(input.docs);
    ids = input.docs.map((d) => resolveDocumentId(d, input.primaryKey));
  } catch (err) {
    if (err instanceof MeiliError) {
      out.error = err.toJSON();
      return out;
    }
    throw err;
  }
  const shardOf = shardsForIds(ids, input.shards);
  const parts = new Map<string, string[]>();
  const nodeShards = new Map<string, Set<number>>();
  for (let i = 0; i < input.docs.length; i++) {
    const shard = shardOf[i]!;
    out.shardCounts[shard] = (out.shardCounts[shard] ?? 0) + 1;
    // Stringify as is and append the shard field textually: no copy of the document (reserved fields were refused,
    // so the key cannot repeat). `{}` has no field to put a comma after.
    const plain = JSON.stringify(input.docs[i]);
    const json = plain.length === 2 ? `{${shardMember(shard)}}` : `${plain.slice(0, -1)},${shardMember(shard)}}`;
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
