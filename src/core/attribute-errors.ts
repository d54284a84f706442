// Meilisearch's "attribute is not …" errors for search parameters (distinct, facets, facet search), with its way of
// listing the attributes a client may see. One place for the dev node, which raises them against its settings, and
// the proxy, which raises them for Miroir's reserved fields against the logical settings.
import { MeiliError } from './errors.js';
import type { FilterableAttributes } from './filter/index.js';

/** Meilisearch's list of attribute names in an error: sorted, comma-joined inside one pair of backticks. */
export function attributeList(names: readonly string[]): string {
  return `\`${[...new Set(names)].sort().join(', ')}\``;
}

/**
 * `attributeList` of the names a user may see: with displayedAttributes restricted (`displayed` not null), the others
 * are hidden and Meilisearch adds `, <..hidden-attributes>`.
 */
export function visibleAttributeList(names: readonly string[], displayed: readonly string[] | null): string {
  if (displayed === null) return attributeList(names);
  const visible = names.filter((n) => displayed.includes(n));
  const hidden = visible.length < new Set(names).size;
  return `\`${[...new Set(visible)].sort().join(', ')}${hidden ? ', <..hidden-attributes>' : ''}\``;
}

/** The displayedAttributes setting as a restriction, or null when every attribute is displayed. */
export function displayedRestriction(setting: unknown): string[] | null {
  const d = Array.isArray(setting) ? (setting as string[]) : ['*'];
  return d.includes('*') ? null : d;
}

/** `distinct` naming an attribute that is not filterable. */
export function distinctNotFilterable(
  uid: string,
  attr: string,
  fa: FilterableAttributes,
  displayed: readonly string[] | null,
): MeiliError {
  const avail =
    fa.patterns.length === 0
      ? 'This index does not have configured filterable attributes.'
      : `Available filterable attributes patterns are: ${visibleAttributeList(fa.filterablePatterns(), displayed)}.`;
  return new MeiliError(
    'invalid_search_distinct',
    `Index \`${uid}\`: Attribute \`${attr}\` is not filterable and thus, cannot be used as distinct attribute. ${avail}`,
  );
}

/** `facets` naming a pattern that is not filterable. */
export function facetNotFilterable(pattern: string, fa: FilterableAttributes): MeiliError {
  const avail =
    fa.patterns.length === 0
      ? 'This index does not have configured filterable attributes.'
      : `Available filterable attributes patterns are: ${attributeList(fa.patterns)}.`;
  return new MeiliError(
    'invalid_search_facets',
    `Invalid facet distribution: Pattern \`${pattern}\` is not filterable. ${avail}`,
  );
}

/** A facet search on an attribute whose rule does not enable facet search. */
export function notFacetSearchable(facetName: string, fa: FilterableAttributes): MeiliError {
  const rule = fa.ruleIndexFor(facetName);
  const avail =
    rule !== null
      ? `Note: this attribute matches rule #${rule} in filterableAttributes, but this rule does not enable facetSearch.\nHint: enable facetSearch in rule #${rule} by adding \`"facetSearch": true\` to the rule.\nHint: prepend another rule matching ${facetName} with facetSearch: true before rule #${rule}`
      : fa.facetSearchablePatterns().length === 0
        ? 'This index does not have configured facet-searchable attributes. To make it facet-searchable add it to the `filterableAttributes` index settings.'
        : `Available facet-searchable attributes patterns are: ${attributeList(fa.facetSearchablePatterns())}. To make it facet-searchable add it to the \`filterableAttributes\` index settings.`;
  return new MeiliError(
    'invalid_facet_search_facet_name',
    `Attribute \`${facetName}\` is not facet-searchable. ${avail}`,
  );
}
