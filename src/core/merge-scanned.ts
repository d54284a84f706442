// HOT PATH. `mergeSearchResults` over scanned node answers (core/answer-spans.ts), for keyword searches: the same
// k-way merge, paging, distinct, totals and facets, written as JSON bytes — each hit is the node's own bytes (members
// the client must not see cut out, `_formatted` / `_matchesPosition` rewritten without reserved and added fields),
// never parsed into an object and serialized again. Equal, as JSON, to `mergeSearchResults` over the parsed answers
// (test/unit/core/merge-scanned.test.ts holds them together); hybrid and semantic searches keep the object merge.
import { quotedKey, type ScannedAnswer, type ScannedHit } from './answer-spans.js';
import {
  addedToFormatted,
  answerMembers,
  compareRankKeys,
  detailKeys,
  keepDistinct,
  stripReserved,
  vectorKind,
  type MergeOptions,
  type MergeQuery,
  type MergeSettings,
  type NodeAnswer,
  type RankKeys,
} from './merge.js';
import { pageWindow } from './pagination.js';
import { isReservedField } from './reserved.js';
import { comparePrimaryKeys } from './sort-order.js';
import { numberOf } from './types.js';

const SCORE = quotedKey('_rankingScore');
const DETAILS = quotedKey('_rankingScoreDetails');
const FORMATTED = quotedKey('_formatted');
const MATCHES = quotedKey('_matchesPosition');
const UNDERSCORE = 0x5f;

/**
 * A merged answer as bytes: `head` is `{"hits":[…]` (node bytes, not copied yet), `tail` the members after hits. A
 * coalesced search shares one with other requests: it is read, never changed.
 */
export interface ScannedMerge {
  head: BytePieces;
  tail: NodeAnswer;
}

/** The answer's JSON: the head, then the tail's members with `extra` (e.g. this request's `requestUid`) last. */
export function scannedMergeBody(merge: ScannedMerge, extra: NodeAnswer = {}): Buffer {
  let rest = JSON.stringify(merge.tail);
  rest = rest.length > 2 ? `,${rest.slice(1, -1)}` : '';
  for (const k in extra) rest += `,${JSON.stringify(k)}:${JSON.stringify(extra[k])}`;
  const tail = Buffer.from(`${rest}}`);
  return Buffer.concat(merge.head.parts.concat(tail), merge.head.length + tail.length);
}

interface ScannedRanked {
  hit: ScannedHit;
  score: number;
  keys: RankKeys;
}

function ranked(hit: ScannedHit, useDetails: boolean): ScannedRanked {
  return { hit, score: hit.number(SCORE), keys: useDetails ? detailKeys(hit.value(DETAILS)) : null };
}

function compareScanned(a: ScannedRanked, b: ScannedRanked, pk: Buffer): number {
  const c = compareRankKeys(a.keys, b.keys);
  if (c !== 0) return c;
  if (a.score !== b.score) return b.score - a.score;
  return comparePrimaryKeys(a.hit.value(pk), b.hit.value(pk));
}

const OPEN = Buffer.from('{');
const CLOSE = Buffer.from('}');
const COMMA = Buffer.from(',');
const HITS_OPEN = Buffer.from('{"hits":[');
const HITS_CLOSE = Buffer.from(']');

/** Which members of a hit the client must not see, or whose value is rewritten. */
interface Cuts {
  added: readonly Buffer[];
  formattedAdded: readonly string[];
  addedNames: readonly string[];
  showScore: boolean;
  showDetails: boolean;
}

/** Whether member `m` of a hit is left out of the client's answer. */
function dropped(h: ScannedHit, m: number, cuts: Cuts): boolean {
  if (h.bytes[h.keyStart(m) + 1] === UNDERSCORE) {
    if (!cuts.showScore && h.keyIs(m, SCORE)) return true;
    if (!cuts.showDetails && h.keyIs(m, DETAILS)) return true;
    if (isReservedField(h.key(m))) return true;
  }
  for (const a of cuts.added) if (h.keyIs(m, a)) return true;
  return false;
}

/** Byte pieces of an answer and their total length (one copy into the reply at the end). */
export class BytePieces {
  readonly parts: Buffer[] = [];
  length = 0;

  push(piece: Buffer): void {
    this.parts.push(piece);
    this.length += piece.length;
  }
}

const EMPTY_OBJECT = Buffer.from('{}');

/**
 * One hit's bytes for the client: the node's own, or its kept members in runs (the first run from the hit's `{`, the
 * last to its `}`), with rewritten formatting between them.
 */
function writeHit(h: ScannedHit, cuts: Cuts, out: BytePieces): void {
  let run = -1;
  let pieces = 0;
  let cut = false;
  let closed = false;
  const separate = (): void => out.push(pieces++ === 0 ? OPEN : COMMA);
  const flush = (to: number): void => {
    if (run === -1) return;
    if (run === 0) pieces++;
    else separate();
    closed = to === h.size - 1;
    out.push(h.bytes.subarray(run === 0 ? h.start : h.keyStart(run), closed ? h.end : h.valueEnd(to)));
    run = -1;
  };
  for (let m = 0; m < h.size; m++) {
    const rewrite = h.bytes[h.keyStart(m) + 1] === UNDERSCORE && (h.keyIs(m, FORMATTED) || h.keyIs(m, MATCHES));
    if (!rewrite && !dropped(h, m, cuts)) {
      if (run === -1) run = m;
      continue;
    }
    flush(m - 1);
    cut = true;
    if (rewrite) {
      const formatted = h.keyIs(m, FORMATTED);
      const value = stripReserved(h.valueAt(m), formatted ? cuts.formattedAdded : cuts.addedNames);
      separate();
      out.push(Buffer.from(`${formatted ? '"_formatted"' : '"_matchesPosition"'}:${JSON.stringify(value)}`));
    }
  }
  if (!cut) {
    out.push(h.bytes.subarray(h.start, h.end));
    return;
  }
  flush(h.size - 1);
  if (pieces === 0) out.push(EMPTY_OBJECT);
  else if (!closed) out.push(CLOSE);
}

/** The merged answer of scanned node answers (each asked for offset 0, limit offset+limit), as bytes. */
export function mergeScannedResults(
  answers: readonly ScannedAnswer[],
  query: MergeQuery,
  settings: MergeSettings,
  opts: MergeOptions = {},
): ScannedMerge {
  const w = pageWindow(query, settings.maxTotalHits);
  const useDetails = vectorKind(query) === 'keyword' && Array.isArray(query.sort) && query.sort.length > 0;
  const distinct = query.distinct ?? settings.distinctAttribute;
  const need = w.offset + w.limit;
  const take = distinct === null ? need : Number.MAX_SAFE_INTEGER;
  const pk = quotedKey(settings.primaryKey);
  // K-way merge of the node lists, each already in ranking order.
  const heads = answers.map((a) => (a.hits.length > 0 ? ranked(a.hits[0]!, useDetails) : null));
  const pos = answers.map(() => 0);
  let merged: ScannedHit[] = [];
  while (merged.length < take) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== null && h !== undefined && (best < 0 || compareScanned(h, heads[best]!, pk) < 0)) best = i;
    }
    if (best < 0) break;
    merged.push(heads[best]!.hit);
    const next = ++pos[best]!;
    const list = answers[best]!.hits;
    heads[best] = next < list.length ? ranked(list[next]!, useDetails) : null;
  }
  let candidates = 0;
  for (const a of answers) candidates += numberOf(a.members.estimatedTotalHits ?? a.members.totalHits) ?? 0;
  if (distinct !== null) {
    const key = quotedKey(distinct);
    const before = merged.length;
    merged = keepDistinct(merged, (h) => h.value(key));
    candidates -= before - merged.length;
  }
  const addedNames = opts.addedFields ?? [];
  const cuts: Cuts = {
    added: addedNames.map(quotedKey),
    addedNames,
    formattedAdded: addedToFormatted(query, addedNames),
    showScore: query.showRankingScore === true,
    showDetails: query.showRankingScoreDetails === true,
  };
  const head = new BytePieces();
  head.push(HITS_OPEN);
  const page = merged.slice(w.offset, w.offset + w.limit);
  for (let p = 0; p < page.length; p++) {
    if (p > 0) head.push(COMMA);
    writeHit(page[p]!, cuts, head);
  }
  head.push(HITS_CLOSE);
  const tail: NodeAnswer = {};
  answerMembers(
    tail,
    answers.map((a) => a.members),
    query,
    w,
    candidates,
    settings,
  );
  return { head, tail };
}
