// The Piscina worker entry: the CPU-heavy jobs the proxy hands off above a size threshold. Each job is the same
// src/core function the main thread calls inline below the threshold, so results never depend on where it ran.
import { enableNative } from '../../native/index.js';
import { documentHash, settingsHash } from '../core/canonical-json.js';
import { xxh64 } from '../core/hash.js';
import { ingestBatch as ingestCore, type IngestBatchInput, type IngestBatchOutput } from '../core/ingest-batch.js';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { isMainThread } from 'node:worker_threads';
import {
  mergeSearchResults,
  type MergeOptions,
  type MergeQuery,
  type MergeSettings,
  type NodeAnswer,
} from '../core/merge.js';

enableNative();

export interface FingerprintInput {
  docs: Array<Record<string, unknown>>;
  primaryKey: string;
}

export interface FingerprintOutput {
  /** [primary key, content hash as 16 hex digits] per document, sorted by primary key. */
  entries: Array<[string, string]>;
  /** XXH64 over the sorted `pk‖hash` lines: equal digests ⇔ equal pages. */
  digest: string;
}

/** Per-document content hashes of one page and their order-independent digest (anti-entropy, verify passes). */
export function fingerprintPage(input: FingerprintInput): FingerprintOutput {
  const entries: Array<[string, string]> = input.docs.map((d) => [
    String(d[input.primaryKey]),
    documentHash(d).toString(16).padStart(16, '0'),
  ]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const digest = xxh64(Buffer.from(entries.map((e) => `${e[0]}\u0000${e[1]}`).join('\n')))
    .toString(16)
    .padStart(16, '0');
  return { entries, digest };
}

export function canonicalHash(value: unknown): string {
  return settingsHash(value);
}

export function mergeResults(input: {
  answers: NodeAnswer[];
  query: MergeQuery;
  settings: MergeSettings;
  options?: MergeOptions;
}): NodeAnswer {
  return mergeSearchResults(input.answers, input.query, input.settings, input.options);
}

/** Whether a byte view spans its whole memory, so that memory can move between threads (a small Buffer shares
 * Node's pool slab, which must stay where it is). */
export function ownsMemory(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
}

/** What the worker gives back for a batch: the routing, and the client's body when it was moved in. */
export interface IngestBatchReturn extends IngestBatchOutput {
  movedBody?: Uint8Array;
}

/**
 * A batch parsed and routed in the worker; its per-node bodies go back to the main thread moved, not copied (a 95 MB
 * batch would otherwise be serialized once more on each side), and so does the client's body when the pool moved it
 * in (`movedBody`), so the caller has it again.
 */
export function ingestBatch(
  input: IngestBatchInput & { moved?: boolean },
): IngestBatchReturn | Transferred<IngestBatchReturn> {
  const out: IngestBatchReturn = ingestCore(input);
  if (isMainThread) return out; // the pool's inline path
  const moved = new Set<ArrayBuffer>();
  for (const body of Object.values(out.routed?.bodies ?? {}))
    if (ownsMemory(body)) moved.add(body.buffer as ArrayBuffer);
  if (input.moved === true) {
    out.movedBody = input.body;
    moved.add(input.body.buffer as ArrayBuffer);
  }
  return moved.size === 0 ? out : (move(new Transferred(out, [...moved])) as Transferred<IngestBatchReturn>);
}

class Transferred<T> {
  constructor(
    private readonly value: T,
    private readonly list: ArrayBuffer[],
  ) {}
  get [transferableSymbol](): ArrayBuffer[] {
    return this.list;
  }
  get [valueSymbol](): T {
    return this.value;
  }
}
