// Ranking like Meilisearch's bucket sort: every relevancy rule yields Rank{rank, max} per document, documents are
// ordered rule by rule in `rankingRules` order (sort and custom `attr:asc|desc` rules in their place), ties by
// insertion order. `_rankingScore` merges the ranks lexicographically as a mixed-radix number (meili-api.md §4):
// start {1,1}; merge(outer, inner) = {(outer.rank-1)·inner.max + inner.rank, outer.max·inner.max}; score =
// rank/max. So an earlier rule always dominates a later one. Per rule, for the matched query terms M:
//   words         rank = |M| (terms kept by the matching strategy), max = number of query terms
//   typo          rank = maxTypos + 1 − typos, max = maxTypos + 1 (maxTypos = typos the terms of M may have)
//   proximity     rank = 7(|M|−1) + 1 − cost, max = 7(|M|−1) + 1 (cost per consecutive pair = min(gap, 7))
//   attributeRank rank = A − best field index, max = A (A = number of searchable attributes)
//   wordPosition  rank = 11 − min(position of the first match in that field, 10), max = 11
//   exactness     rank 3 exactMatch (a field equals the query) / 2 matchesStart / 1 noExactMatch, max 3
// No corpus statistics enter a score, so shards score the same document the same way.
import type { RankRequest, RankResult, RankedHit, SortCriterion } from './types.js';
import type { Derivation, DocEntry, TextIndex } from './text-index.js';
import { tokenize } from './tokenize.js';

interface Rank {
  rank: number;
  max: number;
}

type RuleKind = 'words' | 'typo' | 'proximity' | 'attributeRank' | 'wordPosition' | 'exactness';

type AppliedRule =
  | { kind: 'relevancy'; rule: RuleKind; name: string }
  | { kind: 'sort'; criterion: SortCriterion; name: string };

export interface QueryTerm {
  word: string;
  derivations: Map<string, Derivation>;
  /** Synonym alternatives: each a list of words that must all occur. */
  synonyms: string[][];
  maxTypos: number;
}

/** Turns `q` into terms (stop words removed, last word as prefix) with their derivations. */
export function queryTerms(index: TextIndex, q: string | null): QueryTerm[] {
  if (q === null) return [];
  const words = tokenize(q, index.config.nonSeparatorTokens, index.config.separatorTokens).map((t) => t.word);
  const stop = new Set(index.config.stopWords.map((w) => w.toLowerCase()));
  const kept = words.filter((w) => !stop.has(w));
  const terms = kept.length > 0 ? kept : [];
  return terms.map((word, i) => {
    const derivs = index.derivations(word, i === terms.length - 1, true);
    return {
      word,
      derivations: new Map(derivs.map((d) => [d.word, d])),
      synonyms: index.synonyms(word),
      maxTypos: index.allowedTypos(word),
    };
  });
}

function expandRules(rankingRules: readonly string[], sort: readonly SortCriterion[] | null): AppliedRule[] {
  const out: AppliedRule[] = [];
  for (const r of rankingRules) {
    if (r === 'sort') {
      for (const c of sort ?? []) out.push({ kind: 'sort', criterion: c, name: `${c.field}:${c.direction}` });
      continue;
    }
    const custom = /^(.+):(asc|desc)$/.exec(r);
    if (custom) {
      out.push({ kind: 'sort', criterion: { field: custom[1]!, direction: custom[2] as 'asc' | 'desc' }, name: r });
      continue;
    }
    const kind = r === 'attribute' ? 'attributeRank' : r;
    if (['words', 'typo', 'proximity', 'attributeRank', 'wordPosition', 'exactness'].includes(kind)) {
      out.push({ kind: 'relevancy', rule: kind as RuleKind, name: kind });
    }
  }
  return out;
}

/** Where a term occurs in a document: best typo count and positions per field (restricted fields only). */
interface TermHit {
  typos: number;
  /** [fieldRank, position] pairs, and the field index in entry.fields. */
  positions: Array<{ field: number; rank: number; pos: number; exact: boolean }>;
}

function termHit(term: QueryTerm, entry: DocEntry, restrict: ReadonlySet<string> | null): TermHit | null {
  let best = Infinity;
  const positions: TermHit['positions'] = [];
  entry.fields.forEach((f, fi) => {
    if (restrict !== null && !restrict.has(f.attr) && !restrict.has(f.attr.split('.')[0]!)) return;
    for (let p = 0; p < f.words.length; p++) {
      const d = term.derivations.get(f.words[p]!);
      if (d !== undefined) {
        if (d.typos < best) best = d.typos;
        positions.push({ field: fi, rank: f.rank, pos: p, exact: d.typos === 0 && !d.prefix });
      }
    }
    for (const alt of term.synonyms) {
      const at = f.words.indexOf(alt[0]!);
      if (at >= 0 && alt.every((w) => f.words.includes(w))) {
        best = 0;
        positions.push({ field: fi, rank: f.rank, pos: at, exact: true });
      }
    }
  });
  return positions.length === 0 ? null : { typos: best, positions };
}

function compareValues(a: unknown, b: unknown, dir: 'asc' | 'desc'): number {
  const norm = (v: unknown): unknown => (Array.isArray(v) ? (v.length === 0 ? undefined : dir === 'asc' ? [...v].sort(cmpScalar)[0] : [...v].sort(cmpScalar).at(-1)) : v);
  const x = norm(a);
  const y = norm(b);
  const xm = x === undefined || x === null || typeof x === 'object';
  const ym = y === undefined || y === null || typeof y === 'object';
  if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1; // missing values last in both directions
  const c = cmpScalar(x, y);
  return dir === 'asc' ? c : -c;
}

/** Numbers before strings (booleans as strings), numbers numerically, strings lexicographically. */
export function cmpScalar(x: unknown, y: unknown): number {
  const xn = typeof x === 'number';
  const yn = typeof y === 'number';
  if (xn && yn) return (x as number) - (y as number);
  if (xn !== yn) return xn ? -1 : 1;
  const xs = String(x).toLowerCase();
  const ys = String(y).toLowerCase();
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

interface Scored {
  docId: number;
  ranks: Array<Rank | null>;
  extra: Array<Record<string, unknown> | null>;
  score: number;
}

function mergeScore(ranks: Array<Rank | null>): number {
  let rank = 1;
  let max = 1;
  for (const r of ranks) {
    if (r === null) continue;
    rank = (rank - 1) * r.max + r.rank;
    max *= r.max;
  }
  return rank / max;
}

/** Ranks candidates for one query; see the header for the rules. */
export function rank(index: TextIndex, req: RankRequest): RankResult {
  const rules = expandRules(index.config.rankingRules, req.sort);
  const terms = queryTerms(index, req.q);
  const restrict = req.attributesToSearchOn === null ? null : new Set(req.attributesToSearchOn);
  const scored: Scored[] = [];
  const A = index.searchableCount;

  if (terms.length === 0) {
    const ids = req.candidates === null ? [...index.docs.keys()] : [...req.candidates];
    ids.sort((a, b) => a - b);
    for (const docId of ids) scored.push({ docId, ranks: rules.map(() => null), extra: rules.map(() => null), score: 1 });
  } else {
    // Which terms survive for a document: `last` drops from the end, `frequency` drops the most frequent first.
    const order = terms.map((_, i) => i);
    if (req.matchingStrategy === 'frequency') {
      const freq = terms.map((t) => {
        const docs = new Set<number>();
        for (const w of t.derivations.keys()) for (const d of index.postings.get(w) ?? []) docs.add(d);
        return docs.size;
      });
      order.sort((a, b) => freq[a]! - freq[b]! || a - b);
    }
    const first = terms[order[0]!]!;
    const pool = new Set<number>();
    for (const w of first.derivations.keys()) for (const d of index.postings.get(w) ?? []) pool.add(d);
    for (const alt of first.synonyms) for (const d of index.postings.get(alt[0]!) ?? []) pool.add(d);
    for (const docId of pool) {
      if (req.candidates !== null && !req.candidates.has(docId)) continue;
      const entry = index.docs.get(docId);
      if (entry === undefined) continue;
      const hits = terms.map((t) => termHit(t, entry, restrict));
      let k = 0;
      while (k < order.length && hits[order[k]!] !== null) k++;
      if (k === 0) continue;
      if (req.matchingStrategy === 'all' && k < terms.length) continue;
      const kept = order.slice(0, k).sort((a, b) => a - b);
      scored.push(scoreDoc(docId, entry, terms, hits, kept, rules, A, req));
    }
  }

  const rankIdx = rules.map((r, i) => (r.kind === 'relevancy' ? i : -1));
  scored.sort((a, b) => {
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.kind === 'relevancy' && rankIdx[i]! >= 0) {
        const x = a.ranks[i];
        const y = b.ranks[i];
        if (x && y) {
          const d = y.rank * x.max - x.rank * y.max;
          if (d !== 0) return d;
        }
      } else if (r.kind === 'sort') {
        const c = compareValues(req.getValue(a.docId, r.criterion.field), req.getValue(b.docId, r.criterion.field), r.criterion.direction);
        if (c !== 0) return c;
      }
    }
    return a.docId - b.docId;
  });

  const out: RankedHit[] = [];
  const matched: number[] = [];
  const seen = new Set<string>();
  for (const s of scored) {
    if (req.rankingScoreThreshold !== null && s.score < req.rankingScoreThreshold) continue;
    if (req.distinct !== null) {
      const v = req.getValue(s.docId, req.distinct);
      if (v !== undefined && v !== null) {
        const key = JSON.stringify(v);
        if (seen.has(key)) continue;
        seen.add(key);
      }
    }
    matched.push(s.docId);
    if (out.length < req.limit) out.push(toHit(s, rules, req));
  }
  return { hits: out, totalMatches: matched.length, matchedDocIds: matched };
}

function scoreDoc(docId: number, entry: DocEntry, terms: QueryTerm[], hits: Array<TermHit | null>, kept: number[], rules: AppliedRule[], A: number, req: RankRequest): Scored {
  const ranks: Array<Rank | null> = [];
  const extra: Array<Record<string, unknown> | null> = [];
  for (const r of rules) {
    if (r.kind === 'sort') {
      ranks.push(null);
      extra.push(null);
      continue;
    }
    switch (r.rule) {
      case 'words':
        ranks.push({ rank: kept.length, max: terms.length });
        extra.push({ matchingWords: kept.length, maxMatchingWords: terms.length });
        break;
      case 'typo': {
        const maxTypos = kept.reduce((s, i) => s + terms[i]!.maxTypos, 0);
        const typos = kept.reduce((s, i) => s + hits[i]!.typos, 0);
        ranks.push({ rank: maxTypos + 1 - typos, max: maxTypos + 1 });
        extra.push({ typoCount: typos, maxTypoCount: maxTypos });
        break;
      }
      case 'proximity': {
        if (kept.length < 2) {
          ranks.push({ rank: 1, max: 1 });
        } else {
          let cost = 0;
          for (let j = 1; j < kept.length; j++) {
            const a = hits[kept[j - 1]!]!.positions;
            const b = hits[kept[j]!]!.positions;
            let best = 7;
            for (const x of a) {
              for (const y of b) {
                if (x.field !== y.field) continue;
                const gap = y.pos > x.pos ? y.pos - x.pos - 1 : x.pos - y.pos + 1;
                if (gap < best) best = gap;
              }
            }
            cost += Math.min(best, 7);
          }
          const maxCost = 7 * (kept.length - 1);
          ranks.push({ rank: maxCost + 1 - cost, max: maxCost + 1 });
        }
        extra.push({});
        break;
      }
      case 'attributeRank': {
        let best = A - 1;
        for (const i of kept) for (const p of hits[i]!.positions) if (p.rank < best) best = p.rank;
        ranks.push({ rank: A - Math.max(0, best), max: A });
        extra.push({});
        break;
      }
      case 'wordPosition': {
        let bestRank = Infinity;
        let bestPos = 10;
        for (const i of kept) {
          for (const p of hits[i]!.positions) {
            if (p.rank < bestRank || (p.rank === bestRank && p.pos < bestPos)) {
              bestRank = p.rank;
              bestPos = Math.min(p.pos, 10);
            }
          }
        }
        ranks.push({ rank: 11 - bestPos, max: 11 });
        extra.push({});
        break;
      }
      case 'exactness': {
        const queryWords = kept.map((i) => terms[i]!.word);
        let level = 1;
        for (const f of entry.fields) {
          if (f.words.length === queryWords.length && f.words.every((w, i) => w === queryWords[i])) {
            level = 3;
            break;
          }
          if (level < 2 && queryWords.every((w, i) => f.words[i] === w)) level = 2;
        }
        ranks.push({ rank: level, max: 3 });
        extra.push({ matchType: level === 3 ? 'exactMatch' : level === 2 ? 'matchesStart' : 'noExactMatch' });
        break;
      }
    }
  }
  void req;
  return { docId, ranks, extra, score: mergeScore(ranks) };
}

function toHit(s: Scored, rules: AppliedRule[], req: RankRequest): RankedHit {
  const hit: RankedHit = { docId: s.docId, score: s.score };
  if (req.withDetails) {
    const details: Record<string, Record<string, unknown>> = {};
    let order = 0;
    rules.forEach((r, i) => {
      if (r.kind === 'sort') {
        const v = req.getValue(s.docId, r.criterion.field);
        details[r.name] = v === undefined ? { order } : { order, value: v };
        order++;
        return;
      }
      const rk = s.ranks[i];
      if (rk === null || rk === undefined) return;
      details[r.name] = { order, ...s.extra[i], score: rk.rank / rk.max };
      order++;
    });
    hit.details = details;
  }
  return hit;
}
