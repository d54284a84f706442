// HOT PATH. Composes the filter a covering-set node receives (SPEC Decisions "Reading from a covering set"): the
// client's filter (string or array form) AND `_miroir_shard IN [its shards]`, so replicas never double-count.
// The two are combined in Meilisearch's array form — elements are parsed one by one and ANDed — never by pasting
// strings together, so a client filter like `a = 1) OR (a = 1` stays one (invalid) expression instead of escaping
// the shard clause.
export const SHARD_FIELD = '_miroir_shard';

export function shardInClause(shards: readonly number[]): string {
  return `${SHARD_FIELD} IN [${shards.join(', ')}]`;
}

/** `shards` null = the node answers for every shard it holds: the client's filter goes through untouched. */
export function withShardFilter(filter: unknown, shards: readonly number[] | null): unknown {
  if (shards === null) return filter;
  const clause = shardInClause(shards);
  if (filter === undefined || filter === null) return clause;
  if (typeof filter === 'string') return filter.trim() === '' ? clause : [filter, clause];
  if (Array.isArray(filter)) return [...filter, clause];
  return filter; // not a valid filter: the node reports Meilisearch's own error for it
}

/** ANDs two filters in any of Meilisearch's forms (string, array, absent) into one valid filter. */
export function andFilters(a: unknown, b: unknown): unknown {
  if (b === null || b === undefined || b === '') return a;
  if (a === null || a === undefined || a === '') return b;
  const asList = (f: unknown): unknown[] => (Array.isArray(f) ? f : [f]);
  return [...asList(a), ...asList(b)];
}
