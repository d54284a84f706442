// Reads that name Miroir's reserved fields (SPEC Decisions, reserved fields): to a client `_miroir_shard` is an
// attribute that does not exist. A filter, distinct, facet or facet search on it gets the error Meilisearch gives for
// an attribute the logical settings do not allow (the physical settings do allow it, for Miroir's own shard filter);
// where the logical settings allow it through a wildcard, the read is pointed at a path no document has. Pure.
import {
  displayedRestriction,
  distinctNotFilterable,
  facetNotFilterable,
  notFacetSearchable,
} from './attribute-errors.js';
import type { ErrorCode } from './errors.js';
import {
  attributePatternMatches,
  FilterableAttributes,
  filterAttributes,
  filterToString,
  parseFilter,
  type FilterNode,
} from './filter/index.js';
import { isReservedField, RESERVED_FIELDS } from './reserved.js';
import { stringsOf } from './types.js';

export type ReservedReadKind = 'search' | 'facetSearch' | 'documents';

/** A path under a reserved field: it names nothing in any document, so it matches, sorts and dedupes nothing. */
function absent(field: string): string {
  return `${field}.absent`;
}

function mentionsReserved(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return RESERVED_FIELDS.some((f) => text.includes(f));
}

function rewriteFilter(
  kind: ReservedReadKind,
  uid: string,
  filter: unknown,
  fa: () => FilterableAttributes,
): string | undefined {
  const code: ErrorCode = kind === 'documents' ? 'invalid_document_filter' : 'invalid_search_filter';
  let node: FilterNode | null;
  try {
    node = parseFilter(filter, code);
  } catch {
    return undefined; // the node reports a malformed filter itself
  }
  if (node === null) return undefined;
  const reserved = filterAttributes(node).filter(({ attr }) => isReservedField(attr.value));
  if (reserved.length === 0) return undefined;
  if (reserved.some(({ attr }) => !fa().isFilterable(attr.value))) {
    // Meilisearch's own error, from the logical settings: the first attribute they do not allow.
    fa().check(
      node,
      typeof filter === 'string' ? filter : null,
      code,
      kind === 'documents' ? null : uid,
      kind !== 'documents',
    );
  }
  for (const { attr } of reserved) attr.value = absent(attr.value);
  return filterToString(node);
}

/** The members of a validated read query this module may rewrite (each keeps its type). */
interface ReadQuery {
  filter?: unknown;
  sort?: string[] | null;
  [member: string]: unknown;
}

/**
 * The query to send for a read on `uid` whose logical settings are `logical`: the same object when it names no
 * reserved field, a rewritten copy when a wildcard lets it name one; throws Meilisearch's error otherwise.
 */
export function hideReservedInRead<Q extends ReadQuery>(
  kind: ReservedReadKind,
  uid: string,
  query: Q,
  logical: Record<string, unknown>,
): Q {
  const { filter, facets, distinct, sort, facetName } = query;
  if (
    !mentionsReserved(filter) &&
    !mentionsReserved(facets) &&
    !mentionsReserved(distinct) &&
    !mentionsReserved(sort) &&
    !mentionsReserved(facetName)
  )
    return query;
  let rules: FilterableAttributes | null = null;
  const fa = () => (rules ??= new FilterableAttributes(logical.filterableAttributes));
  const out: { filter?: unknown; distinct?: string; facetName?: string; sort?: string[] } = {};
  const rewritten = rewriteFilter(kind, uid, filter, fa);
  if (rewritten !== undefined) out.filter = rewritten;
  if (kind === 'search')
    for (const f of stringsOf(facets) ?? [])
      if (isReservedField(f) && !fa().isFilterable(f)) throw facetNotFilterable(f, fa());
  if (kind === 'search' && typeof distinct === 'string' && isReservedField(distinct)) {
    if (!fa().isFilterable(distinct))
      throw distinctNotFilterable(uid, distinct, fa(), displayedRestriction(logical.displayedAttributes));
    out.distinct = absent(distinct);
  }
  if (kind === 'facetSearch' && typeof facetName === 'string' && isReservedField(facetName)) {
    if (!fa().isFacetSearchable(facetName)) throw notFacetSearchable(facetName, fa());
    out.facetName = absent(facetName);
  }
  if (Array.isArray(sort)) {
    // A sort the logical settings refuse is refused by the node with the same message (its sortable list is the
    // logical one); one a wildcard allows sorts on nothing.
    const sortable = stringsOf(logical.sortableAttributes) ?? [];
    out.sort = sort.map((s) => {
      const m = /^(.+):(asc|desc)$/.exec(s.trim());
      if (m === null || !isReservedField(m[1]!) || !sortable.some((p) => attributePatternMatches(p, m[1]!))) return s;
      return `${absent(m[1]!)}:${m[2]}`;
    });
  }
  return { ...query, ...out };
}
